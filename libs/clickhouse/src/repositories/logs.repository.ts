import type { DeviceLogRecord } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';
import type { Projection } from './projection.type.js';

const deviceLogRecordColumns = columnMap<DeviceLogRecord>({
  ts: (r) => r.timestampMs,
  device_id: (r) => r.deviceId,
  severity: (r) => r.severity,
  body: (r) => r.body,
  attributes: (r) => r.attributes,
  trace_id: (r) => r.traceId ?? '',
  span_id: (r) => r.spanId ?? '',
  source: (r) => r.source,
  event_id: (r) => r.eventId,
});

export class LogsRepository implements Projection<DeviceLogRecord> {
  readonly table = 'logs';

  constructor(private readonly store: ClickHouseStore) {}

  insert(records: readonly DeviceLogRecord[], token: string): Promise<void> {
    return this.store.insert(this.table, deviceLogRecordColumns, records, token);
  }

  async count(): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT count() AS n FROM ${this.store.table(this.table)}`,
    );
    return Number(row?.n ?? 0);
  }
}
