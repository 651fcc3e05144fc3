export { queryApiConfigSection, type QueryApiConfig } from './query-api.config.js';
export { QueryApiModule } from './query-api.module.js';
export { Public, Roles, ROLES, type AuthenticatedUser, type Role } from './auth/roles.decorator.js';
export { CurrentUser } from './auth/current-user.decorator.js';
