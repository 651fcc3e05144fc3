export { clickHouseConfigSection, type ClickHouseConfig } from './clickhouse.config.js';
export { ClickHouseStore } from './clickhouse-store.js';
export { migrate, migrationsDir, readMigrations, splitStatements, type Migration } from './migrations.js';
export type { Projection } from './repositories/projection.type.js';
export { MetricsRepository } from './repositories/metrics.repository.js';
export {
  MetricsRollupBuildRepository,
  type DeviceRange,
  type RollupView,
} from './repositories/metrics-rollup-build.repository.js';
export { LogsRepository } from './repositories/logs.repository.js';
export { SpansRepository } from './repositories/spans.repository.js';
export { DevicesRepository, type DeviceRow } from './repositories/devices.repository.js';
export { AnomaliesRepository, ForecastsRepository } from './repositories/detections.repository.js';
export { AlertsRepository } from './repositories/alerts.repository.js';
export { SinkBatchesRepository, type SinkBatch } from './repositories/sink-batches.repository.js';
export { ClickHouseModule } from './clickhouse.module.js';
export {
  directTables,
  isProjectionFamily,
  physicalName,
  pinned,
  PROJECTION_FAMILIES,
  ProjectionVersions,
  type Pointer,
  type ProjectionFamily,
  type TableVersions,
  type VersionInfo,
} from './projection-versions.js';
export {
  ReplaysRepository,
  type Frontier,
  type ReplayRecord,
  type ReplayState,
} from './repositories/replays.repository.js';
export {
  AnomalyRescoresRepository,
  type FlaggedWindow,
  type RescoredAnomaly,
  type VersionRange,
} from './repositories/anomaly-rescores.repository.js';
export {
  STREAM_PROJECTIONS,
  streamProjections,
  type StreamProjections,
} from './stream-projections.constant.js';
// Reads of the same table families, for the query API (and its benchmark, which prices the API against them).
export {
  DetectionsQueryRepository,
  RISKS,
  type AnomalyQueryRow,
  type DetectionFilter,
  type DeviceScoreRow,
  type ForecastQueryRow,
  type RiskName,
} from './repositories/detections-query.repository.js';
export {
  DevicesQueryRepository,
  type DeviceFilter,
  type DeviceQueryRow,
} from './repositories/devices-query.repository.js';
export {
  LogsQueryRepository,
  SEVERITIES,
  type LogCountFilter,
  type LogFilter,
  type LogQueryRow,
  type SeverityName,
} from './repositories/logs-query.repository.js';
export {
  AGGREGATIONS,
  MetricsQueryRepository,
  type Aggregation,
  type LatestRow,
  type Resolution,
  type SeriesQuery,
} from './repositories/metrics-query.repository.js';
export { SystemQueryRepository, type TableSizeRow } from './repositories/system-query.repository.js';
// The query API's own state (migration 002): not projections of a topic, the only copy; written by the api.
export {
  API_ROLES,
  ApiUsersRepository,
  nextVersion,
  USER_READ_TTL_MS,
  type ApiRole,
  type ApiUserRecord,
} from './repositories/api-users.repository.js';
export {
  ApiRefreshTokensRepository,
  type RefreshTokenRecord,
} from './repositories/api-refresh-tokens.repository.js';
export { ApiKeysRepository, type ApiKeyRecord } from './repositories/api-keys.repository.js';
export { ApiAuditRepository, type ActorKind, type AuditEvent } from './repositories/api-audit.repository.js';
export {
  SPAN_STATUSES,
  TracesQueryRepository,
  type SpanFilter,
  type SpanQueryRow,
  type SpanStatus,
} from './repositories/traces-query.repository.js';
export {
  AlertInputsQueryRepository,
  type AlertAnomalyRow,
  type AlertDeviceRow,
  type AlertForecastRow,
  type AlertInputRange,
  type AlertLogRow,
  type AlertSampleRow,
} from './repositories/alert-inputs-query.repository.js';
export {
  AlertsQueryRepository,
  type AlertTransitionFilter,
  type AlertTransitionRow,
} from './repositories/alerts-query.repository.js';
