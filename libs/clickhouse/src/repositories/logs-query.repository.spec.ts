import type { DeviceLogRecord, Severity } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { likeContains, LogsQueryRepository, type LogFilter } from './logs-query.repository.js';
import { LogsRepository } from './logs.repository.js';
import { openSpecStore } from './spec-store.util.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const LEVELS: Severity[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** 40 records over two devices; pairs share a timestamp, so order and pages must break ties. */
function records(): DeviceLogRecord[] {
  return Array.from({ length: 40 }, (_, i) => ({
    eventId: `log-${String(i).padStart(2, '0')}`,
    deviceId: i % 2 === 0 ? 'pump-1' : 'pump-2',
    timestampMs: T0 + Math.floor(i / 2) * 1000,
    severity: LEVELS[i % 4]!,
    body: i % 10 === 0 ? `Bearing TEMP high 100%_ok #${i}` : `routine reading #${i}`,
    attributes: { n: String(i) },
    traceId: i === 3 ? 'a'.repeat(32) : null,
    spanId: null,
    source: 'spec',
  }));
}

describe('LogsQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;
  let sut: LogsQueryRepository;
  const day: LogFilter = { fromMs: T0, toMs: T0 + 3_600_000, limit: 1000 };

  beforeAll(async () => {
    store = await openSpecStore('logs-query-spec');
    await new LogsRepository(store).insert(records(), 'logs');
    sut = new LogsQueryRepository(store);
  });

  afterAll(async () => {
    await store.close();
  });

  const ids = async (filter: Partial<LogFilter>) =>
    (await sut.search({ ...day, ...filter })).map((r) => r.event_id);

  it('returns newest first, ties broken by event id, with every column', async () => {
    const rows = await sut.search({ ...day, limit: 3 });
    expect(rows.map((r) => r.event_id)).toEqual(['log-39', 'log-38', 'log-37']);
    const [newest] = await sut.search({ ...day, device: 'pump-2', level: 'WARN', contains: 'reading #3' });
    expect(newest).toMatchObject({
      device_id: 'pump-2',
      severity_name: 'ERROR',
      body: 'routine reading #39',
      attributes: { n: '39' },
      source: 'spec',
    });
    expect(Number(newest!.ts_ms)).toBe(T0 + 19_000);
  });

  it('filters by device, minimum level and case-insensitive text', async () => {
    expect(await ids({ device: 'pump-1', level: 'WARN' })).toEqual(
      records()
        .filter((r) => r.deviceId === 'pump-1' && r.severity === 'WARN')
        .map((r) => r.eventId)
        .reverse(),
    );
    expect((await ids({ level: 'ERROR' })).length).toBe(10);
    expect(await ids({ contains: 'bearing temp' })).toEqual(['log-30', 'log-20', 'log-10', 'log-00']);
  });

  it('takes %, _ and \\ in the text as themselves', async () => {
    expect(likeContains('100%_o\\')).toBe('%100\\%\\_o\\\\%');
    expect(await ids({ contains: '100%_ok' })).toHaveLength(4);
    expect(await ids({ contains: '100%x' })).toEqual([]);
    expect(await ids({ contains: '_' })).toHaveLength(4);
  });

  it('resumes strictly before a row, so pages neither skip nor repeat', async () => {
    const seen: string[] = [];
    let before: LogFilter['before'];
    for (;;) {
      const page = await sut.search({ ...day, limit: 7, before });
      seen.push(...page.map((r) => r.event_id));
      if (page.length < 7) break;
      const last = page.at(-1)!;
      before = { tsMs: Number(last.ts_ms), eventId: last.event_id };
    }
    expect(seen).toEqual(
      records()
        .map((r) => r.eventId)
        .reverse(),
    );
  });

  it('keeps to the time range: from inclusive, to exclusive', async () => {
    expect(await ids({ fromMs: T0 + 1000, toMs: T0 + 2000 })).toEqual(['log-03', 'log-02']);
  });

  it('counts matching records per epoch-aligned bucket, with the same filters as a search', async () => {
    const counts = async (filter: Partial<LogFilter>, stepMs: number) =>
      (await sut.histogram({ ...day, ...filter, stepMs })).map((r) => [
        Number(r.bucket_ms) - T0,
        Number(r.count),
      ]);
    // 40 records, two a second over 20 s: 10 s buckets hold 20 each.
    expect(await counts({}, 10_000)).toEqual([
      [0, 20],
      [10_000, 20],
    ]);
    expect(await counts({ device: 'pump-1', level: 'WARN' }, 10_000)).toEqual([
      [0, 5],
      [10_000, 5],
    ]);
    expect(await counts({ contains: 'BEARING' }, 60_000)).toEqual([[0, 4]]);
    expect(await counts({ fromMs: T0 + 15_000 }, 10_000)).toEqual([[10_000, 10]]);
  });
});
