import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsRepository, pinned, ProjectionVersions, type ClickHouseStore } from '@sentio/clickhouse';
import { watermarks, type ArchiveSegment } from '@sentio/replay';
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

const OLD = 20_000;
const NEW = 10_000;

/**
 * History that outlived the topic: records archived to Avro object container files, then deleted from Kafka
 * (as retention would), are replayed from the archive and the rest from Kafka, into one exact version.
 */
describe('archive: replay reads the archive, then Kafka, seamlessly', () => {
  let box: Sandbox;
  let store: ClickHouseStore;
  let archiveDir: string;
  let archived: CliResult;
  let replay: CliResult;
  let lowAfterDelete: bigint[];

  beforeAll(async () => {
    box = await sandbox('replay_archive');
    archiveDir = mkdtempSync(join(tmpdir(), 'sentio-archive-'));
    const env = { ...box.env, SENTIO_ARCHIVE_DIR: archiveDir };
    const samples = telemetry(OLD + NEW);
    await produceTelemetry(box, samples.slice(0, OLD));
    archived = await sentio(
      ['archive', '--streams', 'telemetry', '--closed-before', String(Date.now() + 1000)],
      env,
    );
    // What retention would do: the archived records leave the topic (all but the last 100 of each partition).
    const { high } = await watermarks(box.kafka, box.topics.telemetry);
    const admin = box.kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [box.topics.telemetry] }); // deleteTopicRecords needs it loaded
    await admin.deleteTopicRecords({
      topic: box.topics.telemetry,
      partitions: [...high].map(([partition, end]) => ({ partition, offset: String(end - 100n) })),
    });
    await admin.disconnect();
    lowAfterDelete = [...(await watermarks(box.kafka, box.topics.telemetry)).low.values()];
    await produceTelemetry(box, samples.slice(OLD));
    const ingest = await PlatformProcess.start('ingest', env);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    // Caught up means committed, so everything is in ClickHouse whatever the exit (the embedded engine has
    // been seen to crash on close under heavy load).
    await ingest.stop();
    replay = await sentio(['replay', 'projection', 'metrics'], env);
    store = openStore(box);
    await ProjectionVersions.attach(store, logger, 0);
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  it('archived the closed range to Avro object container files listed in an index', () => {
    expect(archived.code, archived.stderr.slice(-2000)).toBe(0);
    expect(archived.stdout).toMatch(/telemetry\.samples\.v1: 20,000 records in 6 file\(s\)/);
    const { segments } = JSON.parse(readFileSync(join(archiveDir, 'index.json'), 'utf8')) as {
      segments: ArchiveSegment[];
    };
    expect(segments.reduce((n, s) => n + s.records, 0)).toBe(OLD);
    for (const s of segments) {
      expect(readFileSync(join(archiveDir, s.file)).subarray(0, 4).toString('latin1')).toBe('Obj\u0001');
    }
  });

  it('the topic no longer holds most of the old records', () => {
    expect(lowAfterDelete.every((low) => low > 0n)).toBe(true);
  });

  it('the replay took the old records from the archive and the rest from Kafka, each exactly once', async () => {
    expect(replay.code, replay.stdout.slice(-3000) + replay.stderr.slice(-2000)).toBe(0);
    expect(replay.stdout).toMatch(/metrics v2 done: .*swapped in/);
    const v2 = Object.create(new MetricsRepository(store), {
      table: { value: pinned('metrics', 2) },
    }) as MetricsRepository;
    expect(await v2.count()).toBe(OLD + NEW);
    expect(await v2.countDistinctEvents()).toBe(OLD + NEW);
    // Version 1 was filled by live ingest, which read Kafka alone: the deleted records reached it earlier.
    expect(await metricsV1Count()).toBe(NEW + 600);
  });

  async function metricsV1Count(): Promise<number> {
    const [row] = await store.query<{ n: string }>(
      `SELECT count() AS n FROM ${store.table(pinned('metrics', 1))}`,
    );
    return Number(row!.n);
  }
});
