import type { Anomaly, Forecast } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';
import type { Projection } from './projection.type.js';

const anomalyColumns = columnMap<Anomaly>({
  ts: (a) => a.timestampMs,
  device_id: (a) => a.deviceId,
  asset_id: (a) => a.assetId,
  window_start: (a) => a.windowStartMs,
  window_end: (a) => a.windowEndMs,
  score: (a) => a.score,
  threshold: (a) => a.threshold,
  contributions: (a) => a.contributions.map((c) => ({ metric: c.metric, error: c.error })),
  model_id: (a) => a.modelId,
  model_version: (a) => a.modelVersion,
  event_id: (a) => a.eventId,
});

const forecastColumns = columnMap<Forecast>({
  ts: (f) => f.timestampMs,
  device_id: (f) => f.deviceId,
  metric: (f) => f.metric,
  points: (f) => f.points.map((p) => ({ ts: p.timestampMs, value: p.value, lower: p.lower, upper: p.upper })),
  interval_level: (f) => f.intervalLevel,
  limit_lower: (f) => f.limitLower,
  limit_upper: (f) => f.limitUpper,
  time_to_failure_ms: (f) => f.timeToFailureMs,
  risk: (f) => f.risk,
  confidence: (f) => f.confidence,
  mase: (f) => f.mase,
  model_id: (f) => f.modelId,
  model_version: (f) => f.modelVersion,
  event_id: (f) => f.eventId,
});

export class AnomaliesRepository implements Projection<Anomaly> {
  readonly table = 'anomalies';

  constructor(private readonly store: ClickHouseStore) {}

  insert(anomalies: readonly Anomaly[], token: string): Promise<void> {
    return this.store.insert(this.table, anomalyColumns, anomalies, token);
  }
}

export class ForecastsRepository implements Projection<Forecast> {
  readonly table = 'forecasts';

  constructor(private readonly store: ClickHouseStore) {}

  insert(forecasts: readonly Forecast[], token: string): Promise<void> {
    return this.store.insert(this.table, forecastColumns, forecasts, token);
  }
}
