import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseStore, MetricsRollupBuildRepository, migrate, type RollupView } from '@sentio/clickhouse';
import { createLogger } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The bulk build's derived rollups (5m and 1h from the 1m states of the same staged parts) against the same
 * rollups built from the raw rows, on the real engine and the real version-2 tables of the migrations.
 */
describe('bulk build: 5m and 1h rollups from 1m states', () => {
  const logger = createLogger('test', 'warn');
  let store: ClickHouseStore;
  let sql: MetricsRollupBuildRepository;
  let views: Map<string, RollupView>;
  const raw = 'metrics_v2';
  const staging = MetricsRollupBuildRepository.staging(raw);

  beforeAll(async () => {
    store = ClickHouseStore.open(
      {
        path: mkdtempSync(join(tmpdir(), 'sentio-bulk-rollups-spec-')),
        database: 'bulk_rollups_spec',
        username: 'default',
        password: '',
      },
      logger,
    );
    await migrate(store, logger);
    sql = new MetricsRollupBuildRepository(store);
    views = new Map((await sql.views(raw)).map((v) => [v.target, v]));
    for (const v of views.values()) await sql.createStaging(v.target);
    await sql.createStaging(raw);
    // (The embedded engine keeps the session's last deduplication token: these inserts clear it.)
    // Three parts: 20 series, a sample every 7 s over 3 hours 10 minutes across an hour boundary, every 9th
    // BAD and every 13th without a value (the views leave those out).
    for (let part = 0; part < 3; part++) {
      await store.command(
        `INSERT INTO ${store.database}.${staging} (device_id, metric, ts, value, quality, source, event_id)
         SETTINGS insert_deduplicate = 0, insert_deduplication_token = ''
         SELECT concat('dev-', toString(n % 5)), ['a', 'b', 'c', 'd'][1 + intDiv(n, 5) % 4],
                toDateTime64('2026-11-30 10:55:00', 3, 'UTC') + toIntervalMillisecond(intDiv(n, 20) * 7000 + n % 20),
                if(n % 13 = 0, NULL, sin(n) * 100 + n % 17), if(n % 9 = 0, 'BAD', 'GOOD'), 'spec', toString(n)
         FROM (SELECT number + ${part} * 10000 AS n FROM numbers(10000))`,
      );
    }
  }, 120_000);

  afterAll(async () => {
    await store?.close();
  });

  it('derives only a coarser bucket from the minute, never the other way', async () => {
    const m1 = views.get('metrics_1m_v2')!;
    expect(await sql.derivedSelect(views.get('metrics_5m_v2')!, m1)).toContain('toStartOfFiveMinutes(ts)');
    expect(await sql.derivedSelect(views.get('metrics_1h_v2')!, m1)).toContain('quantileTDigestMergeState');
    expect(await sql.derivedSelect(m1, views.get('metrics_5m_v2')!)).toBeUndefined();
  });

  it('count, min, max and sum equal those built from the raw rows, quantiles close', async () => {
    const m1 = views.get('metrics_1m_v2')!;
    const rawParts = (await sql.parts(staging)).map((p) => p.name);
    expect(rawParts).toHaveLength(3);
    // As the bulk build does it: 1m from two groups of raw parts, each group's 5m and 1h from its 1m parts.
    for (const group of [rawParts.slice(0, 2), rawParts.slice(2)]) {
      const before = new Set((await sql.parts('metrics_1m_v2_bulk')).map((p) => p.name));
      await sql.buildRollup(m1, raw, staging, group, 'metrics_1m_v2_bulk');
      const fresh = (await sql.parts('metrics_1m_v2_bulk'))
        .filter((p) => !before.has(p.name))
        .map((p) => p.name);
      for (const target of ['metrics_5m_v2', 'metrics_1h_v2']) {
        const select = (await sql.derivedSelect(views.get(target)!, m1))!;
        await sql.buildDerived(select, 'metrics_1m_v2_bulk', fresh, `${target}_bulk`);
        // The reference: the same rollup from the raw rows, into the version's own (empty) table.
        await sql.buildRollup(views.get(target)!, raw, staging, group, target);
      }
    }
    for (const target of ['metrics_5m_v2', 'metrics_1h_v2']) {
      const [diff] = await store.query<{ keys: string; differing: string; count: string; far: string }>(
        `SELECT count() AS keys, sum(d.n) AS count,
                countIf(d.n != r.n OR d.lo != r.lo OR d.hi != r.hi OR abs(d.total - r.total) > 1e-6) AS differing,
                countIf(abs(d.median - r.median) > 0.05 * (r.hi - r.lo) + 1e-9) AS far
         FROM (${merged(store, `${target}_bulk`)}) AS d FULL OUTER JOIN (${merged(store, target)}) AS r
         USING (device_id, metric, ts)`,
      );
      const [expected] = await store.query<{ n: string }>(
        `SELECT count() AS n FROM ${store.database}.${staging} WHERE value IS NOT NULL AND quality != 'BAD'`,
      );
      expect(Number(diff!.keys)).toBeGreaterThan(20);
      expect(Number(diff!.count)).toBe(Number(expected!.n));
      expect(Number(diff!.differing)).toBe(0);
      expect(Number(diff!.far)).toBe(0);
    }
  });
});

function merged(store: ClickHouseStore, table: string): string {
  return `SELECT device_id, metric, ts, countMerge(count) AS n, minMerge(min_value) AS lo, maxMerge(max_value) AS hi,
                 sumMerge(sum_value) AS total, quantileTDigestMerge(0.5)(quantiles) AS median
          FROM ${store.database}.${table} GROUP BY device_id, metric, ts`;
}
