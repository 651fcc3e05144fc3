import type { Role } from './roles.util';

export interface Session {
  username: string;
  role: Role;
}

/** The body of login and refresh: the refresh token itself travels only in the httpOnly cookie. */
export interface TokenResponse {
  accessToken: string;
  expiresIn: number;
  role: Role;
  username?: string;
}
