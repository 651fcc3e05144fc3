import type { ClickHouseStore } from '../clickhouse-store.js';

/** Which table answers: raw rows, or the 1-minute, 5-minute (metrics version 2 on) or 1-hour rollup. */
export type Resolution = 'raw' | '1m' | '5m' | '1h';

export const AGGREGATIONS = ['avg', 'min', 'max', 'sum', 'count', 'p50', 'p95', 'p99'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface SeriesQuery {
  device: string;
  metric: string;
  fromMs: number;
  toMs: number;
  stepMs: number;
  agg: Aggregation;
  resolution: Resolution;
}

export interface LatestRow {
  device_id: string;
  metric: string;
  value: number | null;
  unit: string;
  quality: string;
  ts_ms: string;
}

/**
 * The SQL text chosen per aggregation and table: only these fixed fragments are ever spliced in, every value
 * from the caller is a bound parameter. Raw quantiles are exact; rollup quantiles merge t-digests.
 */
const RAW: Record<Aggregation, string> = {
  avg: 'avg(v)',
  min: 'min(v)',
  max: 'max(v)',
  sum: 'sum(v)',
  count: 'toFloat64(count())',
  p50: 'quantileExact(0.5)(v)',
  p95: 'quantileExact(0.95)(v)',
  p99: 'quantileExact(0.99)(v)',
};
const ROLLUP: Record<Aggregation, string> = {
  avg: 'sumMerge(sum_value) / countMerge(count)',
  min: 'minMerge(min_value)',
  max: 'maxMerge(max_value)',
  sum: 'sumMerge(sum_value)',
  count: 'toFloat64(countMerge(count))',
  p50: 'quantileTDigestMerge(0.5)(quantiles)',
  p95: 'quantileTDigestMerge(0.95)(quantiles)',
  p99: 'quantileTDigestMerge(0.99)(quantiles)',
};
const ROLLUP_TABLE = { '1m': 'metrics_1m', '5m': 'metrics_5m', '1h': 'metrics_1h' } as const;

export class MetricsQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Whether the live version of the metrics family has this resolution (5m arrives with version 2). */
  hasResolution(resolution: Resolution): boolean {
    return resolution === 'raw' || this.store.versions.isLive?.(ROLLUP_TABLE[resolution]) !== false;
  }

  /** One row per non-empty bucket, `bucket_ms` the bucket's start; epoch-aligned, so tables agree. */
  series(q: SeriesQuery): Promise<Array<{ bucket_ms: string; value: number }>> {
    const params = {
      device: q.device,
      metric: q.metric,
      fromMs: q.fromMs,
      toMs: q.toMs,
      stepMs: q.stepMs,
    };
    // The rollups hold only good, non-null values; raw reads apply the same rule so the tables agree.
    const sql =
      q.resolution === 'raw'
        ? `SELECT intDiv(toUnixTimestamp64Milli(ts), {stepMs:UInt64}) * {stepMs:UInt64} AS bucket_ms,
                  toFloat64(${RAW[q.agg]}) AS value
           FROM (SELECT ts, assumeNotNull(value) AS v FROM ${this.store.table('metrics')}
                 WHERE device_id = {device:String} AND metric = {metric:String}
                   AND ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts < fromUnixTimestamp64Milli({toMs:Int64})
                   AND value IS NOT NULL AND quality != 'BAD')
           GROUP BY bucket_ms ORDER BY bucket_ms`
        : `SELECT intDiv(toUnixTimestamp(ts) * 1000, {stepMs:UInt64}) * {stepMs:UInt64} AS bucket_ms,
                  toFloat64(${ROLLUP[q.agg]}) AS value
           FROM ${this.store.table(ROLLUP_TABLE[q.resolution])}
           WHERE device_id = {device:String} AND metric = {metric:String}
             AND ts >= toDateTime(intDiv({fromMs:Int64}, 1000), 'UTC') AND ts < toDateTime(intDiv({toMs:Int64}, 1000), 'UTC')
           GROUP BY bucket_ms ORDER BY bucket_ms`;
    return this.store.query(sql, params);
  }

  /**
   * The newest sample of each metric of each device, whatever its quality. Value, unit and quality are taken
   * as one tuple: argMax skips NULLs, so `argMax(value, ts)` alone would pair an older value with the newest
   * sample's time and quality when the newest has no value.
   */
  latest(devices: readonly string[]): Promise<LatestRow[]> {
    if (devices.length === 0) return Promise.resolve([]);
    return this.store.query<LatestRow>(
      `SELECT device_id, metric, tupleElement(newest, 1) AS value, tupleElement(newest, 2) AS unit,
              toString(tupleElement(newest, 3)) AS quality, toUnixTimestamp64Milli(newest_ts) AS ts_ms
       FROM (SELECT device_id, metric, argMax(tuple(value, unit, quality), ts) AS newest, max(ts) AS newest_ts
             FROM ${this.store.table('metrics')}
             WHERE device_id IN {devices:Array(String)}
             GROUP BY device_id, metric)
       ORDER BY device_id, metric`,
      { devices },
    );
  }
}
