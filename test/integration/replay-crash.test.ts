import { MetricsRepository, ProjectionVersions, pinned, type ClickHouseStore } from '@sentio/clickhouse';
import { offsetsForTime } from '@sentio/replay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logger,
  openStore,
  produceTelemetry,
  sandbox,
  telemetry,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';
import { sentio, type CliResult } from './support/replay-cli.js';

const EVENTS = 60_000;

/** A repository of one version's tables: `metrics@2` is version 2's raw table, whatever is live. */
function metricsOf(store: ClickHouseStore, version: number): MetricsRepository {
  const base = new MetricsRepository(store);
  return Object.create(base, { table: { value: pinned('metrics', version) } }) as MetricsRepository;
}

describe('replay: killed between insert and commit, resumed, exact counts in the new version', () => {
  let box: Sandbox;
  let store: ClickHouseStore;
  let dryRun: CliResult;
  let crashed: CliResult;
  let crashedInBuild: CliResult;
  let resumed: CliResult;
  let midpointMs: number;
  let expectedFromMidpoint: number;

  beforeAll(async () => {
    box = await sandbox('replay_crash');
    const samples = telemetry(EVENTS);
    await produceTelemetry(box, samples.slice(0, EVENTS / 2));
    await new Promise((r) => setTimeout(r, 50));
    midpointMs = Date.now();
    await produceTelemetry(box, samples.slice(EVENTS / 2));
    const ingest = await PlatformProcess.start('ingest', box.env);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    expect(await ingest.stop()).toBe(0);
    const byTime = await offsetsForTime(box.kafka, box.topics.telemetry, midpointMs);
    const { high } = await import('@sentio/replay').then((m) =>
      m.watermarks(box.kafka, box.topics.telemetry),
    );
    expectedFromMidpoint = [...high].reduce((n, [p, end]) => n + Number(end - byTime.get(p)!), 0);

    const env = { ...box.env, REPLAY_MAX_BATCH_RECORDS: '4000', REPLAY_FLUSH_INTERVAL_MS: '60000' };
    dryRun = await sentio(
      ['replay', 'projection', 'metrics', '--dry-run', '--from', String(midpointMs)],
      env,
    );
    // The fault hook SIGKILLs the replay right after its third insert into version 2, before that commit.
    crashed = await sentio(['replay', 'projection', 'metrics'], {
      ...env,
      SENTIO_FAULT_REPLAY_CRASH_AFTER_INSERTS: '3',
    });
    // Resumed, it loads the rest of the history in bulk and is killed again halfway through building the
    // rollups from it (small device ranges: many statements).
    crashedInBuild = await sentio(['replay', 'projection', 'metrics'], {
      ...env,
      REPLAY_BULK_BUILD_CHUNK_ROWS: '5000',
      SENTIO_FAULT_REPLAY_CRASH_IN_BUILD_AFTER: '20',
    });
    resumed = await sentio(['replay', 'projection', 'metrics'], env);
    store = openStore(box);
    await ProjectionVersions.attach(store, logger, 0);
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  it('a dry run prints the records per partition from offsets-for-times and an estimated duration', () => {
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain('dry run: metrics into version 2');
    const rows = dryRun.stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s+\d+\s+[\d,]+$/.test(l));
    expect(rows).toHaveLength(6);
    const total = rows.reduce((n, l) => n + Number(l.trim().split(/\s+/)[3]!.replace(/,/g, '')), 0);
    expect(total).toBe(expectedFromMidpoint);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(EVENTS);
    expect(dryRun.stdout).toMatch(/estimated [\d.]+ s at [\d,]+ records\/s/);
  });

  it('the first replay really died by SIGKILL after inserting, before committing', () => {
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.stdout + crashed.stderr).toContain(
      'fault injection: killing the replay between insert and commit',
    );
  });

  it('the first run loaded the history in bulk, into a staging table without rollup views', () => {
    expect(crashed.stdout + crashed.stderr).toContain('replay: history loads in bulk');
  });

  it('the second run resumed the same replay, repeated the written-ahead range and died building the rollups', () => {
    // Logs are JSON lines on stdout beside the report (observability's choice): look in both streams.
    const output = crashedInBuild.stdout + crashedInBuild.stderr;
    expect(crashedInBuild.signal, output.slice(-3000)).toBe('SIGKILL');
    expect(output).toContain('resuming the unfinished replay of the family');
    expect(output).toContain('repeating a written-ahead cycle');
    expect(output).toContain('fault injection: killing the replay in its bulk build');
    expect(output).not.toContain('replay: history built in bulk');
  });

  it('the third run built the rollups again from the start and swapped version 2 in', () => {
    expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
    const output = resumed.stdout + resumed.stderr;
    expect(output).toContain('resuming the unfinished replay of the family');
    expect(output).toContain('replay: history built in bulk');
    expect(resumed.stdout).toMatch(/metrics v2 done: .*swapped in/);
  });

  it('version 2 holds every event exactly once, rollups included, and is live', async () => {
    const v2 = metricsOf(store, 2);
    expect(await v2.count()).toBe(EVENTS);
    expect(await v2.countDistinctEvents()).toBe(EVENTS);
    const [rollups] = await store.query<{ m1: string; m5: string; h1: string }>(
      `SELECT (SELECT countMerge(count) FROM ${store.table('metrics_1m@2')}) AS m1,
              (SELECT countMerge(count) FROM ${store.table('metrics_5m@2')}) AS m5,
              (SELECT countMerge(count) FROM ${store.table('metrics_1h@2')}) AS h1`,
    );
    expect(Number(rollups!.m1)).toBe(EVENTS);
    expect(Number(rollups!.m5)).toBe(EVENTS);
    expect(Number(rollups!.h1)).toBe(EVENTS);
    expect((store.versions as ProjectionVersions).liveVersion('metrics')).toBe(2);
    // Logical names now resolve to version 2.
    expect(store.table('metrics_5m')).toBe(`${box.database}.metrics_5m_v2`);
    expect(await new MetricsRepository(store).count()).toBe(EVENTS);
  });

  it('the rollups built in bulk equal an aggregation of the raw rows, and the staging table is gone', async () => {
    const raw = store.table('metrics@2');
    const [diff] = await store.query<{ minutes: string; differing: string; staging: string }>(
      `SELECT count() AS minutes,
              countIf(r.n != a.n OR r.lo != a.lo OR r.hi != a.hi OR abs(r.total - a.total) > 1e-6) AS differing,
              (SELECT count() FROM system.tables
               WHERE database = {db:String} AND name = 'metrics_v2_bulk') AS staging
       FROM (SELECT device_id, metric, ts, countMerge(count) AS n, minMerge(min_value) AS lo,
                    maxMerge(max_value) AS hi, sumMerge(sum_value) AS total
             FROM ${store.table('metrics_1m@2')} GROUP BY device_id, metric, ts) AS r
       FULL OUTER JOIN
            (SELECT device_id, metric, toStartOfMinute(ts) AS ts, count() AS n, min(value) AS lo,
                    max(value) AS hi, sum(value) AS total
             FROM ${raw} WHERE value IS NOT NULL AND quality != 'BAD' GROUP BY device_id, metric, ts) AS a
       USING (device_id, metric, ts)`,
      { db: box.database },
    );
    expect(Number(diff!.minutes)).toBeGreaterThan(0);
    expect(Number(diff!.differing)).toBe(0);
    expect(Number(diff!.staging)).toBe(0);
  });
});
