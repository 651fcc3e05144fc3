import { SetMetadata } from '@nestjs/common';
import type { Role } from './role.type.js';

export const PUBLIC_KEY = 'sentio:public';
export const ROLES_KEY = 'sentio:roles';

/** When a @Public route is public: always, or only while introspection is on (the API's shape, no data). */
export type PublicWhen = 'always' | 'introspection';

/**
 * Reachable without a token. Every route is denied unless it says this or @Roles; a route public only
 * while introspection is on says @Roles too, for when it is off.
 */
export const Public = (when: PublicWhen = 'always') => SetMetadata(PUBLIC_KEY, when);

/** Roles are ranked (viewer < operator < admin): the route admits its lowest listed role and above. */
export const Roles = (...roles: [Role, ...Role[]]) => SetMetadata(ROLES_KEY, roles);
