import type { TelemetrySample } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { binaryColumnMap } from '../row-binary.util.js';
import type { Projection } from './projection.type.js';

// The types are the table's own (migration 001): the rows go to the engine as RowBinary.
const telemetrySampleColumns = binaryColumnMap<TelemetrySample>({
  device_id: ['LowCardinality(String)', (s) => s.deviceId],
  metric: ['LowCardinality(String)', (s) => s.metric],
  ts: ["DateTime64(3, 'UTC')", (s) => s.timestampMs],
  value: ['Nullable(Float64)', (s) => s.value],
  unit: ['LowCardinality(String)', (s) => s.unit ?? ''],
  quality: ["Enum8('GOOD' = 0, 'UNCERTAIN' = 1, 'BAD' = 2)", (s) => s.quality],
  labels: ['Map(LowCardinality(String), String)', (s) => s.labels],
  source: ['LowCardinality(String)', (s) => s.source],
  event_id: ['String', (s) => s.eventId],
});

export class MetricsRepository implements Projection<TelemetrySample> {
  readonly table = 'metrics';

  constructor(private readonly store: ClickHouseStore) {}

  insert(samples: readonly TelemetrySample[], token: string): Promise<void> {
    return this.store.insert(this.table, telemetrySampleColumns, samples, token);
  }

  async count(): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT count() AS n FROM ${this.store.table(this.table)}`,
    );
    return Number(row?.n ?? 0);
  }

  async countDistinctEvents(): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT uniqExact(event_id) AS n FROM ${this.store.table(this.table)}`,
    );
    return Number(row?.n ?? 0);
  }

  /** Per-minute rollup totals, for checking the materialized views against the raw rows. */
  async rollupCounts(): Promise<{ raw: number; minute: number; hour: number }> {
    const [row] = await this.store.query<{ raw: string; minute: string; hour: string }>(
      `SELECT
         (SELECT count() FROM ${this.store.table(this.table)} WHERE value IS NOT NULL AND quality != 'BAD') AS raw,
         (SELECT countMerge(count) FROM ${this.store.table('metrics_1m')}) AS minute,
         (SELECT countMerge(count) FROM ${this.store.table('metrics_1h')}) AS hour`,
    );
    return { raw: Number(row?.raw ?? 0), minute: Number(row?.minute ?? 0), hour: Number(row?.hour ?? 0) };
  }

  /**
   * Produce-to-queryable latency of rows whose event time is at or after `sinceMs`, in milliseconds, taking
   * the event timestamp as the produce time (the benchmark stamps events as it sends them).
   */
  async ingestLatency(
    sinceMs: number,
    source: string,
  ): Promise<{ rows: number; p50: number; p99: number; max: number }> {
    const [row] = await this.store.query<{ rows: string; p50: number; p99: number; max: number }>(
      `SELECT count() AS rows,
              quantileExact(0.5)(lag) AS p50, quantileExact(0.99)(lag) AS p99, max(lag) AS max
       FROM (SELECT toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(ts) AS lag
             FROM ${this.store.table(this.table)}
             WHERE ts >= fromUnixTimestamp64Milli({since:Int64}) AND source = {source:String})`,
      { since: sinceMs, source },
    );
    return {
      rows: Number(row?.rows ?? 0),
      p50: Number(row?.p50 ?? 0),
      p99: Number(row?.p99 ?? 0),
      max: Number(row?.max ?? 0),
    };
  }
}
