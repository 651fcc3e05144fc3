export { createLogger, NestJsonLogger, routeProcessWarnings, type Logger } from './logger.js';
export { LOGGER } from './logger.constant.js';
export {
  configuredLogLevel,
  observabilityConfigSection,
  type ObservabilityConfig,
} from './observability.config.js';
export { counter, gauge, histogram, metricsRegistry } from './metrics.js';
export {
  HealthRegistry,
  type HealthCheck,
  type HealthReport,
  type HealthState,
  type HealthSummary,
} from './health.registry.js';
export { ObservabilityModule } from './observability.module.js';
export { progressReporter, type ProgressReporter } from './progress.js';
