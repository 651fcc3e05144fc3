import { API_ROLES, type ApiRole } from '@sentio/clickhouse';

/** Roles are ranked viewer < operator < admin; they are the values the users and keys tables can hold. */
export const ROLES = API_ROLES;
export type Role = ApiRole;

/** Whether a caller of role `actual` may use a route that admits `required` (its lowest listed role and above). */
export function roleAdmits(required: readonly Role[], actual: Role): boolean {
  const rank = (role: Role) => ROLES.indexOf(role);
  return required.some((role) => rank(actual) >= rank(role));
}
