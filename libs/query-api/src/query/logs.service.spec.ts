import type { LogFilter, LogQueryRow, LogsQueryRepository } from '@sentio/clickhouse';
import { describe, expect, it, vi } from 'vitest';
import { as, specConfig } from '../common/spec-fakes.util.js';
import { LogsService } from './logs.service.js';
import { ReadCache } from './read-cache.service.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const row = (i: number): LogQueryRow => ({
  ts_ms: String(T0 - i * 1000),
  device_id: 'pump-1',
  severity_name: 'WARN',
  body: `line ${i}`,
  attributes: { n: String(i) },
  trace_id: '',
  span_id: '',
  source: 'spec',
  event_id: `e${i}`,
});

function setup(total: number) {
  const mocks = {
    logs: {
      search: vi.fn(async (f: LogFilter) =>
        Array.from({ length: total }, (_, i) => row(i))
          .filter((r) => !f.before || Number(r.ts_ms) < f.before.tsMs)
          .slice(0, f.limit),
      ),
    },
  };
  const config = specConfig();
  const sut = new LogsService(
    config,
    as<LogsQueryRepository>(mocks.logs),
    new ReadCache(config, { mode: 'embedded' }),
  );
  return { sut, mocks };
}

describe('LogsService', () => {
  it('pages newest first with a cursor of the last row', async () => {
    const { sut, mocks } = setup(5);
    const first = await sut.search({ limit: 3, to: String(T0 + 1) });
    expect(first.items.map((l) => l.eventId)).toEqual(['e0', 'e1', 'e2']);
    const second = await sut.search({ limit: 3, to: String(T0 + 1), cursor: first.nextCursor });
    expect(second.items.map((l) => l.eventId)).toEqual(['e3', 'e4']);
    expect(second.nextCursor).toBeUndefined();
    expect(mocks.logs.search.mock.calls[1]![0].before).toEqual({ tsMs: T0 - 2000, eventId: 'e2' });
    expect(first.items[0]).toMatchObject({
      ts: new Date(T0).toISOString(),
      severity: 'WARN',
      attributes: [{ key: 'n', value: '0' }],
    });
  });

  it('searches the last hour by default, treats empty text as no filter, and refuses forged cursors', async () => {
    const { sut, mocks } = setup(0);
    await sut.search({ contains: '', level: 'ERROR', device: 'pump-1' });
    const filter = mocks.logs.search.mock.lastCall![0];
    expect(filter.toMs - filter.fromMs).toBe(3_600_000);
    expect(filter).toMatchObject({ contains: undefined, level: 'ERROR', device: 'pump-1', limit: 101 });
    const forged = Buffer.from(JSON.stringify({ t: 'x', e: 1 })).toString('base64url');
    await expect(sut.search({ cursor: forged })).rejects.toThrow(/cursor: expected the nextCursor/);
  });
});
