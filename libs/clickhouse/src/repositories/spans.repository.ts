import type { Span } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';
import type { Projection } from './projection.type.js';

/** DateTime64(6) takes a decimal seconds string without losing microseconds. */
function microsToSeconds(us: number): string {
  const s = Math.floor(us / 1e6);
  return `${s}.${String(us - s * 1e6).padStart(6, '0')}`;
}

const spanColumns = columnMap<Span>({
  trace_id: (s) => s.traceId,
  span_id: (s) => s.spanId,
  parent_span_id: (s) => s.parentSpanId ?? '',
  name: (s) => s.name,
  service_name: (s) => s.serviceName,
  device_id: (s) => s.deviceId ?? '',
  kind: (s) => s.kind,
  start_time: (s) => microsToSeconds(s.startTimeUs),
  duration_us: (s) => s.durationUs,
  status_code: (s) => s.statusCode,
  status_message: (s) => s.statusMessage ?? '',
  attributes: (s) => s.attributes,
  events: (s) =>
    s.events.map((e) => ({ time: microsToSeconds(e.timeUs), name: e.name, attributes: e.attributes })),
  source: (s) => s.source,
  event_id: (s) => s.eventId,
});

export class SpansRepository implements Projection<Span> {
  readonly table = 'spans';

  constructor(private readonly store: ClickHouseStore) {}

  insert(spans: readonly Span[], token: string): Promise<void> {
    return this.store.insert(this.table, spanColumns, spans, token);
  }

  async count(): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT count() AS n FROM ${this.store.table(this.table)}`,
    );
    return Number(row?.n ?? 0);
  }
}
