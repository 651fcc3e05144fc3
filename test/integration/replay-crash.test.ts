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

  it('the second run resumed the same replay, repeated the written-ahead range and swapped version 2 in', () => {
    expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
    // Logs are JSON lines on stdout beside the report (observability's choice): look in both streams.
    const output = resumed.stdout + resumed.stderr;
    expect(output).toContain('resuming the unfinished replay of the family');
    expect(output).toContain('repeating a written-ahead cycle');
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
});
