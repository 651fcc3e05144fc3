import type { ClickHouseStore } from '@sentio/clickhouse';
import type { Forecast } from '@sentio/events';

export interface RescoredForecast extends Forecast {
  replayId: string;
}

const getters: Record<string, (f: RescoredForecast) => unknown> = {
  replay_id: (f) => f.replayId,
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
};

// The store's ColumnMap shape: column names and a row reader.
const columns = {
  names: Object.keys(getters),
  row: (f: RescoredForecast) => Object.values(getters).map((get) => get(f)),
};

/** Forecasts per source and model version in a range: live (`live`) and re-scored (`replay:<id>`). */
export interface ForecastTally {
  source: string;
  model_version: string;
  forecasts: string;
  at_risk: string;
}

/**
 * Forecasts recomputed by `sentio replay detectors` (migration 020), beside the live `forecasts` and never
 * in them. The SQL of the re-score tables lives beside the replay component that owns them.
 */
export class ForecastRescoresRepository {
  constructor(private readonly store: ClickHouseStore) {}

  insert(rows: readonly RescoredForecast[], token: string): Promise<void> {
    return this.store.insert('forecast_rescores', columns, rows, token);
  }

  /** Per source and model version: forecasts made in the range and how many of them saw a MEDIUM or HIGH risk. */
  tally(range: { fromMs: number; toMs: number; devices?: readonly string[] }): Promise<ForecastTally[]> {
    const devices =
      range.devices && range.devices.length > 0 ? 'AND device_id IN {devices:Array(String)}' : '';
    const where = `ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts < fromUnixTimestamp64Milli({toMs:Int64}) ${devices}`;
    return this.store.query<ForecastTally>(
      `SELECT source, model_version, count() AS forecasts, countIf(risk IN ('MEDIUM', 'HIGH')) AS at_risk
       FROM (
         SELECT 'live' AS source, model_version, risk FROM ${this.store.table('forecasts')} WHERE ${where}
         UNION ALL
         SELECT concat('replay:', replay_id) AS source, model_version, risk
         FROM ${this.store.table('forecast_rescores')} FINAL WHERE ${where}
       )
       GROUP BY source, model_version ORDER BY source, model_version`,
      { fromMs: range.fromMs, toMs: range.toMs, devices: range.devices ?? [] },
    );
  }
}
