export { queryApiConfigSection, type QueryApiConfig } from './query-api.config.js';
export { QueryApiModule } from './query-api.module.js';
export { Public, Roles, ROLES, type AuthenticatedUser, type Role } from './auth/roles.decorator.js';
export { CurrentUser } from './auth/current-user.decorator.js';
// The repositories hold the SQL of each query: the benchmark runs the same SQL directly to price the API.
export { DetectionsQueryRepository } from './repositories/detections-query.repository.js';
export { DevicesQueryRepository } from './repositories/devices-query.repository.js';
export { LogsQueryRepository } from './repositories/logs-query.repository.js';
export { MetricsQueryRepository } from './repositories/metrics-query.repository.js';
