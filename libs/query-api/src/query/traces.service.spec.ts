import type { SpanFilter, SpanQueryRow, TracesQueryRepository } from '@sentio/clickhouse';
import { describe, expect, it, vi } from 'vitest';
import { as, specConfig } from '../common/spec-fakes.util.js';
import { TracesService } from './traces.service.js';

const START_US = Date.UTC(2026, 10, 26, 12) * 1000 + 123;
const span: SpanQueryRow = {
  trace_id: 't',
  span_id: 's',
  parent_span_id: '',
  name: 'poll',
  service_name: 'gw',
  device_id: 'pump-1',
  kind_name: 'SERVER',
  start_us: String(START_US),
  duration_us: '1500',
  status_name: 'OK',
  status_message: '',
  attributes: { a: 'b' },
  event_times_us: [String(START_US + 7)],
  event_names: ['retry'],
  event_attributes: [{ n: '1' }],
};

function setup() {
  const mocks = {
    traces: { trace: vi.fn(async () => [span]), search: vi.fn(async (_: SpanFilter) => [span]) },
  };
  const sut = new TracesService(
    specConfig({ QUERY_API_MAX_ROWS: '500' }),
    as<TracesQueryRepository>(mocks.traces),
  );
  return { sut, mocks };
}

describe('TracesService', () => {
  it('maps spans with microsecond starts, millisecond ISO times and their events', async () => {
    const { sut, mocks } = setup();
    const [s] = await sut.trace({ traceId: 't' });
    expect(mocks.traces.trace).toHaveBeenCalledWith('t', 500);
    expect(s).toEqual({
      traceId: 't',
      spanId: 's',
      parentSpanId: '',
      name: 'poll',
      serviceName: 'gw',
      deviceId: 'pump-1',
      kind: 'SERVER',
      startTime: new Date(Math.floor(START_US / 1000)).toISOString(),
      startTimeUs: START_US,
      durationUs: 1500,
      status: 'OK',
      statusMessage: '',
      attributes: [{ key: 'a', value: 'b' }],
      events: [{ timeUs: START_US + 7, name: 'retry', attributes: [{ key: 'n', value: '1' }] }],
    });
  });

  it('searches with the minimum duration in microseconds and the page limit', async () => {
    const { sut, mocks } = setup();
    await sut.search({ service: 'gw', minDurationMs: 2, status: 'ERROR', limit: 10 });
    expect(mocks.traces.search.mock.lastCall![0]).toMatchObject({
      service: 'gw',
      minDurationUs: 2000,
      status: 'ERROR',
      limit: 10,
    });
    await expect(sut.search({ limit: 501 })).rejects.toThrow(/limit: expected at most 500/);
  });
});
