import type { ClickHouseStore } from '../clickhouse-store.js';

/** The Enum8 of `forecasts.risk`, lowest first. */
export const RISKS = ['NONE', 'LOW', 'MEDIUM', 'HIGH'] as const;
export type RiskName = (typeof RISKS)[number];

export interface DetectionFilter {
  fromMs: number;
  toMs: number;
  device?: string;
  metric?: string;
  limit: number;
}

export interface AnomalyQueryRow {
  ts_ms: string;
  device_id: string;
  asset_id: string;
  window_start_ms: string;
  window_end_ms: string;
  score: number;
  threshold: number;
  contribution_metrics: string[];
  contribution_errors: number[];
  model_id: string;
  model_version: string;
  event_id: string;
}

export interface DeviceScoreRow {
  device_id: string;
  max_score: number;
  anomalies: string;
  last_ts_ms: string;
  model_version: string;
}

export interface ForecastQueryRow {
  ts_ms: string;
  device_id: string;
  metric: string;
  point_ts_ms: string[];
  point_values: number[];
  point_lowers: number[];
  point_uppers: number[];
  interval_level: number;
  limit_lower: number | null;
  limit_upper: number | null;
  time_to_failure_ms: string | null;
  risk_name: string;
  confidence: number | null;
  mase: number | null;
  model_id: string;
  model_version: string;
  event_id: string;
}

const RANGE = `ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts < fromUnixTimestamp64Milli({toMs:Int64})`;

function where(filter: DetectionFilter): { sql: string; params: Record<string, unknown> } {
  const conditions = [RANGE];
  const params: Record<string, unknown> = { fromMs: filter.fromMs, toMs: filter.toMs, limit: filter.limit };
  if (filter.device !== undefined) {
    conditions.push('device_id = {device:String}');
    params['device'] = filter.device;
  }
  if (filter.metric !== undefined) {
    conditions.push('metric = {metric:String}');
    params['metric'] = filter.metric;
  }
  return { sql: conditions.join(' AND '), params };
}

const FORECAST_COLUMNS = `toUnixTimestamp64Milli(ts) AS ts_ms, device_id, metric,
  arrayMap(p -> toUnixTimestamp64Milli(tupleElement(p, 1)), points) AS point_ts_ms,
  arrayMap(p -> tupleElement(p, 2), points) AS point_values,
  arrayMap(p -> tupleElement(p, 3), points) AS point_lowers,
  arrayMap(p -> tupleElement(p, 4), points) AS point_uppers,
  interval_level, limit_lower, limit_upper, time_to_failure_ms, toString(risk) AS risk_name,
  confidence, mase, model_id, model_version, event_id`;

/**
 * Detector output. Anomalies are read FINAL: a replayed detection is a duplicate row until a merge, and a
 * count or a list must not show it twice.
 */
export class DetectionsQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  anomalies(filter: DetectionFilter): Promise<AnomalyQueryRow[]> {
    const { sql, params } = where({ ...filter, metric: undefined });
    return this.store.query<AnomalyQueryRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, device_id, asset_id,
              toUnixTimestamp64Milli(window_start) AS window_start_ms,
              toUnixTimestamp64Milli(window_end) AS window_end_ms, score, threshold,
              arrayMap(c -> tupleElement(c, 1), contributions) AS contribution_metrics,
              arrayMap(c -> tupleElement(c, 2), contributions) AS contribution_errors,
              model_id, model_version, event_id
       FROM ${this.store.table('anomalies')} FINAL
       WHERE ${sql}
       ORDER BY ts DESC, event_id DESC
       LIMIT {limit:UInt32}`,
      params,
    );
  }

  /** Devices ranked by their highest anomaly score in the range. */
  topDevices(filter: DetectionFilter): Promise<DeviceScoreRow[]> {
    const { sql, params } = where({ ...filter, device: undefined, metric: undefined });
    return this.store.query<DeviceScoreRow>(
      `SELECT device_id, max(score) AS max_score, count() AS anomalies,
              toUnixTimestamp64Milli(max(ts)) AS last_ts_ms, argMax(model_version, score) AS model_version
       FROM ${this.store.table('anomalies')} FINAL
       WHERE ${sql}
       GROUP BY device_id
       ORDER BY max_score DESC, device_id
       LIMIT {limit:UInt32}`,
      params,
    );
  }

  forecasts(filter: DetectionFilter): Promise<ForecastQueryRow[]> {
    const { sql, params } = where(filter);
    return this.store.query<ForecastQueryRow>(
      `SELECT ${FORECAST_COLUMNS}
       FROM ${this.store.table('forecasts')}
       WHERE ${sql}
       ORDER BY ts DESC, metric, event_id DESC
       LIMIT {limit:UInt32}`,
      params,
    );
  }

  /**
   * The newest forecast of each device and metric in the range, kept when its risk is at least `minRisk`,
   * soonest time to failure first (none last): what the plant should look at next.
   */
  atRisk(
    filter: Omit<DetectionFilter, 'device' | 'metric'> & { minRisk: RiskName },
  ): Promise<ForecastQueryRow[]> {
    return this.store.query<ForecastQueryRow>(
      `SELECT * FROM (
         SELECT ${FORECAST_COLUMNS}, CAST(risk, 'Int8') AS risk_level
         FROM ${this.store.table('forecasts')}
         WHERE ${RANGE}
         ORDER BY device_id, metric, ts DESC, event_id DESC
         LIMIT 1 BY device_id, metric)
       WHERE risk_level >= {minRisk:Int8}
       ORDER BY time_to_failure_ms IS NULL, time_to_failure_ms, risk_level DESC, device_id, metric
       LIMIT {limit:UInt32}`,
      {
        fromMs: filter.fromMs,
        toMs: filter.toMs,
        limit: filter.limit,
        minRisk: RISKS.indexOf(filter.minRisk),
      },
    );
  }
}
