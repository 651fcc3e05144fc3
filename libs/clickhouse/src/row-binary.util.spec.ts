import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse-store.js';
import { binaryColumnMap } from './row-binary.util.js';

interface Row {
  id: number;
  name: string | null;
  ts: number;
  micros: number;
  level: 'LOW' | 'HIGH';
  tags: Record<string, string>;
  points: Array<{ at: number; v: number }>;
  ok: boolean;
  big: number;
}

const columns = binaryColumnMap<Row>({
  id: ['UInt32', (r) => r.id],
  name: ['Nullable(String)', (r) => r.name],
  ts: ["DateTime64(3, 'UTC')", (r) => r.ts],
  micros: ["DateTime64(6, 'UTC')", (r) => r.micros],
  level: ["Enum8('LOW' = -1, 'HIGH' = 7)", (r) => r.level],
  tags: ['Map(LowCardinality(String), String)', (r) => r.tags],
  points: ["Array(Tuple(at DateTime64(3, 'UTC'), v Float64))", (r) => r.points],
  ok: ['Bool', (r) => r.ok],
  big: ['Int64', (r) => r.big],
});

// Written as RowBinary by the encoder, read back as JSON by the real engine: the two must agree.
describe('RowBinary column maps on the embedded engine', () => {
  let store: ClickHouseStore;

  beforeAll(async () => {
    store = ClickHouseStore.open(
      {
        path: mkdtempSync(join(tmpdir(), 'sentio-rb-')),
        database: 'rb_spec',
        username: 'default',
        password: '',
      },
      createLogger('test', 'warn'),
    );
    await store.command('CREATE DATABASE IF NOT EXISTS rb_spec');
    await store.command(
      `CREATE TABLE rb_spec.rows (${columns.structure}) ENGINE = MergeTree ORDER BY id
       SETTINGS non_replicated_deduplication_window = 100`,
    );
  });

  afterAll(async () => {
    await store?.close();
  });

  it('round-trips every supported type, long and non-ASCII strings included, once per token', async () => {
    const long = 'ä'.repeat(200); // 400 bytes: a two-byte length prefix
    const rows: Row[] = [
      {
        id: 1,
        name: 'pump-0001',
        ts: Date.UTC(2026, 10, 26, 12, 0, 0, 123),
        micros: Date.UTC(2026, 10, 26, 12, 0, 0, 456),
        level: 'LOW',
        tags: { site: 'north', κλειδί: long },
        points: [
          { at: Date.UTC(2026, 10, 26, 13), v: 1.5 },
          { at: Date.UTC(2026, 10, 26, 14), v: -2.25 },
        ],
        ok: true,
        big: -(2 ** 40) - 3,
      },
      {
        id: 2,
        name: null,
        ts: 0,
        micros: 1,
        level: 'HIGH',
        tags: {},
        points: [],
        ok: false,
        big: 2 ** 52 + 1,
      },
    ];
    await store.insert('rows', columns, rows, 'rb-1');
    await store.insert('rows', columns, rows, 'rb-1'); // a retry under the same token lands nothing
    const back = await store.query<Record<string, unknown>>(
      `SELECT id, name, toUnixTimestamp64Milli(ts) AS ts, toUnixTimestamp64Micro(micros) AS micros, level,
              tags, arrayMap(p -> (toUnixTimestamp64Milli(p.1), p.2), points) AS points, ok, toString(big) AS big
       FROM rb_spec.rows ORDER BY id`,
    );
    expect(back).toEqual([
      {
        id: 1,
        name: 'pump-0001',
        ts: rows[0]!.ts,
        micros: rows[0]!.micros * 1000,
        level: 'LOW',
        tags: { site: 'north', κλειδί: long },
        points: [
          [Date.UTC(2026, 10, 26, 13), 1.5],
          [Date.UTC(2026, 10, 26, 14), -2.25],
        ],
        ok: true,
        big: String(-(2 ** 40) - 3),
      },
      {
        id: 2,
        name: null,
        ts: 0,
        micros: 1000,
        level: 'HIGH',
        tags: {},
        points: [],
        ok: false,
        big: String(2 ** 52 + 1),
      },
    ]);
  });

  it('names an enum value the column does not have', () => {
    const row = {
      id: 3,
      name: 'x',
      ts: 0,
      micros: 0,
      level: 'MEDIUM',
      tags: {},
      points: [],
      ok: true,
      big: 0,
    };
    expect(() => columns.encode([row as unknown as Row])).toThrow(/MEDIUM is not a value of Enum8/);
  });
});
