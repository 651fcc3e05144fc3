import type { DeviceLogRecord } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import type { Projection } from './projection.type.js';

export class LogsRepository implements Projection<DeviceLogRecord> {
  readonly table = 'logs';

  constructor(private readonly store: ClickHouseStore) {}

  insert(records: readonly DeviceLogRecord[], token: string): Promise<void> {
    return this.store.insert(
      this.table,
      records.map((r) => ({
        ts: r.timestampMs,
        device_id: r.deviceId,
        severity: r.severity,
        body: r.body,
        attributes: r.attributes,
        trace_id: r.traceId ?? '',
        span_id: r.spanId ?? '',
        source: r.source,
        event_id: r.eventId,
      })),
      token,
    );
  }

  async count(): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT count() AS n FROM ${this.store.table(this.table)}`,
    );
    return Number(row?.n ?? 0);
  }
}
