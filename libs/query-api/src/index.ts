export { queryApiConfigSection, type QueryApiConfig } from './query-api.config.js';
export { QueryApiModule } from './query-api.module.js';
export { ROLES, roleAdmits, type Role } from './common/role.type.js';
export type { AuthenticatedUser } from './common/authenticated-user.type.js';
export { Public, Roles } from './common/roles.decorator.js';
export { CurrentUser } from './common/current-user.decorator.js';
// The audit trail, for other components' administrative actions (needs the api target in the process).
export { AuditModule } from './audit/audit.module.js';
export { AuditService, type AuditActor } from './audit/audit.service.js';
