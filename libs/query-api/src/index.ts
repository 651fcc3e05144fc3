export { queryApiConfigSection, type QueryApiConfig } from './query-api.config.js';
export { QueryApiModule } from './query-api.module.js';
export { ROLES, roleAdmits, type Role } from './common/role.type.js';
export type { AuthenticatedUser } from './common/authenticated-user.type.js';
export { Public, Roles } from './common/roles.decorator.js';
export { CurrentUser } from './common/current-user.decorator.js';
