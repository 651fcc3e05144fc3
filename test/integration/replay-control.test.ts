import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClickHouseStore, MetricsRollupBuildRepository, physicalName, pinned } from '@sentio/clickhouse';
import { loadSentioConfig, platformModule } from '@sentio/platform';
import { ReplayService, type ReplayProgress } from '@sentio/replay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logger,
  produceTelemetry,
  sandbox,
  telemetry,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

const EVENTS = 80_000;

/** Pause, resume and cancel on the replay service itself, against the real broker and engine. */
describe('replay control: pause at a checkpoint, resume to exact counts, cancel', () => {
  let box: Sandbox;
  let app: INestApplicationContext;
  let replay: ReplayService;
  let store: ClickHouseStore;
  let paused: ReplayProgress;
  let rowsAtPause: number;
  let done: ReplayProgress;
  let cancelled: ReplayProgress;
  let listed: ReplayProgress[];

  const rows = async (version: number) =>
    Number(
      (
        await store.query<{ n: string }>(
          `SELECT count() AS n FROM ${store.table(pinned('metrics', version))}`,
        )
      )[0]!.n,
    );
  /** Rows of the version's history still in the staging table of its bulk load (0 once it is built). */
  const staged = async (version: number) => {
    const staging = MetricsRollupBuildRepository.staging(physicalName('metrics', version));
    const [exists] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {staging:String}`,
      { db: store.database, staging },
    );
    if (Number(exists!.n) === 0) return 0;
    const [row] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.database}.${staging}`);
    return Number(row!.n);
  };

  beforeAll(async () => {
    box = await sandbox('replay_control');
    await produceTelemetry(box, telemetry(EVENTS));
    const ingest = await PlatformProcess.start('ingest', box.env);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    await ingest.stop();

    const config = loadSentioConfig({
      env: {
        ...process.env,
        ...box.env,
        REPLAY_MAX_BATCH_RECORDS: '2000',
        REPLAY_FLUSH_INTERVAL_MS: '60000',
      },
    });
    app = await NestFactory.createApplicationContext(platformModule(config, ['replay'], logger), {
      logger: false,
    });
    replay = app.get(ReplayService, { strict: false });
    store = app.get(ClickHouseStore, { strict: false });

    const started = await replay.startProjection({ family: 'metrics' });
    while ((replay.get(started.id)?.records ?? 0) < 5_000) await new Promise((r) => setTimeout(r, 20));
    paused = await replay.pause(started.id);
    // An empty version loads its history in bulk: what the replay read sits in staging until the build.
    rowsAtPause = (await rows(2)) + (await staged(2));
    await replay.resume(started.id);
    done = await replay.wait(started.id);

    // A second rebuild goes into a clone (version 3) and is cancelled on its way.
    const second = await replay.startProjection({ family: 'metrics', swap: false });
    while ((replay.get(second.id)?.records ?? 0) < 2_000) await new Promise((r) => setTimeout(r, 20));
    cancelled = await replay.cancel(second.id);
    listed = await replay.list();
  }, 300_000);

  afterAll(async () => {
    await app?.close();
  });

  it('paused at a checkpoint: what it read is inserted and committed, the rest is not', () => {
    expect(paused.state).toBe('paused');
    expect(rowsAtPause).toBeGreaterThanOrEqual(5_000);
    expect(rowsAtPause).toBeLessThan(EVENTS);
  });

  it('resumed from its frontier to exact counts, and swapped in', async () => {
    expect(done.state, done.error).toBe('done');
    expect(done.swapped).toBe(true);
    expect(await rows(2)).toBe(EVENTS);
    expect(await staged(2)).toBe(0);
    const [distinct] = await store.query<{ n: string }>(
      `SELECT uniqExact(event_id) AS n FROM ${store.table(pinned('metrics', 2))}`,
    );
    expect(Number(distinct!.n)).toBe(EVENTS);
  });

  it('cancelled the second rebuild into a new clone, which keeps what it had', async () => {
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.version).toBe(3);
    const partial = (await rows(3)) + (await staged(3));
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(EVENTS);
    expect(listed.find((r) => r.id === cancelled.id)?.state).toBe('cancelled');
    await expect(replay.resume(cancelled.id)).rejects.toThrow('cannot be resumed');
  });
});
