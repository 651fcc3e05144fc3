import { MetricsRepository, type ClickHouseStore } from '@sentio/clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openStore,
  produceTelemetry,
  sandbox,
  telemetry,
  caughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

const EVENTS = 60_000;

describe('ingest: killed between insert and commit, then stopped gracefully with records buffered', () => {
  let box: Sandbox;
  let store: ClickHouseStore;
  let crashed: PlatformProcess;
  let recovered: PlatformProcess;
  let committedAtStop: boolean;

  beforeAll(async () => {
    box = await sandbox('crash');
    await produceTelemetry(box, telemetry(EVENTS));

    // Small batches so the crash falls mid-stream; a short session so the dead member's partitions free up fast.
    const batching = {
      INGEST_MAX_BATCH_RECORDS: '4000',
      INGEST_FLUSH_INTERVAL_MS: '5000',
      KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    };
    // The fault hook SIGKILLs the process right after its third insert, before that batch's commit.
    crashed = await PlatformProcess.start('ingest', {
      ...box.env,
      ...batching,
      SENTIO_FAULT_CRASH_AFTER_INSERTS: '3',
    });
    await crashed.exited();

    // Batches too big and too slow to flush by themselves: after the repeated range, everything the process
    // reads stays in its buffers until SIGTERM makes it insert and commit them.
    recovered = await PlatformProcess.start('ingest', {
      ...box.env,
      ...batching,
      INGEST_MAX_BATCH_RECORDS: '1000000',
      INGEST_FLUSH_INTERVAL_MS: '600000',
    });
    await recovered.waitFor(
      async () =>
        (await recovered.metricSeries('sentio_kafka_consumer_lag_records')).every((v) => v === 0) &&
        (await recovered.metricSeries('sentio_kafka_consumer_lag_records')).length === 6,
    );
    expect(await recovered.stop()).toBe(0);
    committedAtStop = await caughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    store = openStore(box);
  });

  afterAll(async () => {
    await store?.close();
  });

  it('the first process really died by SIGKILL after inserting, before committing', () => {
    expect(crashed.child.signalCode).toBe('SIGKILL');
    expect(crashed.log).toContain('fault injection: killing the process between insert and commit');
  });

  it('the restarted process repeated the written-ahead range under the same token', () => {
    expect(recovered.log).toContain('repeating a written-ahead cycle');
  });

  it('a graceful stop inserted and committed everything it had buffered', () => {
    expect(committedAtStop).toBe(true);
  });

  it('stores every event exactly once', async () => {
    const metrics = new MetricsRepository(store);
    expect(await metrics.count()).toBe(EVENTS);
    expect(await metrics.countDistinctEvents()).toBe(EVENTS);
    expect((await metrics.rollupCounts()).minute).toBe(EVENTS);
  });
});
