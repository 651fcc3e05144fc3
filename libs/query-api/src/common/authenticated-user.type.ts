import type { Role } from './role.type.js';

/** Who a request acts as, once the access guard has authenticated it. */
export interface AuthenticatedUser {
  /** A user's name, or the id of an API key. */
  username: string;
  role: Role;
  kind: 'user' | 'api-key';
}
