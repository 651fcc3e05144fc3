import type { RecordOf, StreamName } from '@sentio/events';
import type { Projection } from './repositories/projection.type.js';
import type { AlertsRepository } from './repositories/alerts.repository.js';
import type { AnomaliesRepository, ForecastsRepository } from './repositories/detections.repository.js';
import type { DevicesRepository } from './repositories/devices.repository.js';
import type { LogsRepository } from './repositories/logs.repository.js';
import type { MetricsRepository } from './repositories/metrics.repository.js';
import type { SpansRepository } from './repositories/spans.repository.js';

/** Which table family each stream is projected into: ingest's wiring, as data. */
export type StreamProjections = { readonly [S in StreamName]?: Projection<RecordOf<S>> };

/** The stream -> projection map, provided by ClickHouseModule. */
export const STREAM_PROJECTIONS = Symbol('StreamProjections');

export function streamProjections(tables: {
  metrics: MetricsRepository;
  logs: LogsRepository;
  spans: SpansRepository;
  devices: DevicesRepository;
  anomalies: AnomaliesRepository;
  forecasts: ForecastsRepository;
  alerts: AlertsRepository;
}): StreamProjections {
  return {
    telemetry: tables.metrics,
    logs: tables.logs,
    spans: tables.spans,
    lifecycle: tables.devices,
    anomalies: tables.anomalies,
    forecasts: tables.forecasts,
    alerts: tables.alerts,
  };
}
