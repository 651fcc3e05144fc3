import type { Span } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import type { Projection } from './projection.type.js';

/** DateTime64(6) takes a decimal seconds string without losing microseconds. */
function microsToSeconds(us: number): string {
  const s = Math.floor(us / 1e6);
  return `${s}.${String(us - s * 1e6).padStart(6, '0')}`;
}

export class SpansRepository implements Projection<Span> {
  readonly table = 'spans';

  constructor(private readonly store: ClickHouseStore) {}

  insert(spans: readonly Span[], token: string): Promise<void> {
    return this.store.insert(
      this.table,
      spans.map((s) => ({
        trace_id: s.traceId,
        span_id: s.spanId,
        parent_span_id: s.parentSpanId ?? '',
        name: s.name,
        service_name: s.serviceName,
        device_id: s.deviceId ?? '',
        kind: s.kind,
        start_time: microsToSeconds(s.startTimeUs),
        duration_us: s.durationUs,
        status_code: s.statusCode,
        status_message: s.statusMessage ?? '',
        attributes: s.attributes,
        events: s.events.map((e) => ({
          time: microsToSeconds(e.timeUs),
          name: e.name,
          attributes: e.attributes,
        })),
        source: s.source,
        event_id: s.eventId,
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
