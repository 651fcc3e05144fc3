import type { Span } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { openSpecStore } from './spec-store.util.js';
import { SpansRepository } from './spans.repository.js';
import { TracesQueryRepository, type SpanFilter } from './traces-query.repository.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);

function span(
  traceId: string,
  spanId: string,
  parent: string | null,
  offsetUs: number,
  durationUs: number,
): Span {
  return {
    eventId: `${traceId}-${spanId}`,
    traceId,
    spanId,
    parentSpanId: parent,
    name: parent ? 'modbus.read' : 'poll',
    serviceName: parent ? 'connector' : 'gateway',
    deviceId: 'pump-1',
    kind: parent ? 'CLIENT' : 'SERVER',
    startTimeUs: T0 * 1000 + offsetUs,
    durationUs,
    statusCode: traceId === TRACE_A && parent ? 'ERROR' : 'OK',
    statusMessage: traceId === TRACE_A && parent ? 'timeout' : null,
    attributes: { register: '40001' },
    events: parent ? [{ timeUs: T0 * 1000 + offsetUs + 7, name: 'retry', attributes: { attempt: '1' } }] : [],
    source: 'spec',
  };
}

describe('TracesQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;
  let sut: TracesQueryRepository;
  const hour: SpanFilter = { fromMs: T0, toMs: T0 + 3_600_000, limit: 100 };

  beforeAll(async () => {
    store = await openSpecStore('traces-query-spec');
    await new SpansRepository(store).insert(
      [
        // Inserted out of order: the waterfall sorts by start.
        span(TRACE_A, 'a2', 'a1', 10, 100_000),
        span(TRACE_A, 'a1', null, 0, 120_000),
        span(TRACE_B, 'b1', null, 60_000_000, 30_000),
        span(TRACE_B, 'b2', 'b1', 60_000_005, 20_000),
      ],
      'spans',
    );
    sut = new TracesQueryRepository(store);
  });

  afterAll(async () => {
    await store.close();
  });

  it('returns one trace in start order with microsecond times and its events', async () => {
    const rows = await sut.trace(TRACE_A, 100);
    expect(rows.map((r) => [r.span_id, r.parent_span_id, Number(r.start_us) - T0 * 1000])).toEqual([
      ['a1', '', 0],
      ['a2', 'a1', 10],
    ]);
    expect(rows[1]).toMatchObject({
      name: 'modbus.read',
      service_name: 'connector',
      kind_name: 'CLIENT',
      status_name: 'ERROR',
      status_message: 'timeout',
      attributes: { register: '40001' },
      event_names: ['retry'],
      event_attributes: [{ attempt: '1' }],
    });
    expect(Number(rows[1]!.duration_us)).toBe(100_000);
    expect(rows[1]!.event_times_us.map(Number)).toEqual([T0 * 1000 + 17]);
    expect(await sut.trace(TRACE_A, 1)).toHaveLength(1);
    expect(await sut.trace('c'.repeat(32), 100)).toEqual([]);
  });

  it('searches spans newest first by service, name, minimum duration and status', async () => {
    const ids = async (filter: Partial<SpanFilter>) =>
      (await sut.search({ ...hour, ...filter })).map((r) => r.span_id);
    expect(await ids({})).toEqual(['b2', 'b1', 'a2', 'a1']);
    expect(await ids({ service: 'gateway' })).toEqual(['b1', 'a1']);
    expect(await ids({ name: 'modbus.read', status: 'ERROR' })).toEqual(['a2']);
    expect(await ids({ minDurationUs: 100_000 })).toEqual(['a2', 'a1']);
    expect(await ids({ status: 'UNSET' })).toEqual([]);
    expect(await ids({ fromMs: T0 + 60_000 })).toEqual(['b2', 'b1']);
    expect(await ids({ limit: 1 })).toEqual(['b2']);
  });
});
