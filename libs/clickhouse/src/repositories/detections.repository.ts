import type { Anomaly, Forecast } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import type { Projection } from './projection.type.js';

export class AnomaliesRepository implements Projection<Anomaly> {
  readonly table = 'anomalies';

  constructor(private readonly store: ClickHouseStore) {}

  insert(anomalies: readonly Anomaly[], token: string): Promise<void> {
    return this.store.insert(
      this.table,
      anomalies.map((a) => ({
        ts: a.timestampMs,
        device_id: a.deviceId,
        asset_id: a.assetId,
        window_start: a.windowStartMs,
        window_end: a.windowEndMs,
        score: a.score,
        threshold: a.threshold,
        contributions: a.contributions.map((c) => ({ metric: c.metric, error: c.error })),
        model_id: a.modelId,
        model_version: a.modelVersion,
        event_id: a.eventId,
      })),
      token,
    );
  }
}

export class ForecastsRepository implements Projection<Forecast> {
  readonly table = 'forecasts';

  constructor(private readonly store: ClickHouseStore) {}

  insert(forecasts: readonly Forecast[], token: string): Promise<void> {
    return this.store.insert(
      this.table,
      forecasts.map((f) => ({
        ts: f.timestampMs,
        device_id: f.deviceId,
        metric: f.metric,
        points: f.points.map((p) => ({ ts: p.timestampMs, value: p.value, lower: p.lower, upper: p.upper })),
        interval_level: f.intervalLevel,
        limit_lower: f.limitLower,
        limit_upper: f.limitUpper,
        time_to_failure_ms: f.timeToFailureMs,
        risk: f.risk,
        confidence: f.confidence,
        mase: f.mase,
        model_id: f.modelId,
        model_version: f.modelVersion,
        event_id: f.eventId,
      })),
      token,
    );
  }
}
