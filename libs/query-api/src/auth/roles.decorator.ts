import { SetMetadata } from '@nestjs/common';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PUBLIC_KEY = 'sentio:public';
export const ROLES_KEY = 'sentio:roles';

/** Reachable without a token. Every route is denied unless it says this or @Roles. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** Roles are ranked (viewer < operator < admin): the route admits its lowest listed role and above. */
export const Roles = (...roles: [Role, ...Role[]]) => SetMetadata(ROLES_KEY, roles);

export function roleAdmits(required: readonly Role[], actual: Role): boolean {
  const rank = (role: Role) => ROLES.indexOf(role);
  return required.some((role) => rank(actual) >= rank(role));
}

export interface AuthenticatedUser {
  /** A user's name, or the id of an API key. */
  username: string;
  role: Role;
  kind: 'user' | 'api-key';
}
