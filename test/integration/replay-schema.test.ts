import { AvroSerde, EventCodec } from '@sentio/avro';
import { pinned, ProjectionVersions, type ClickHouseStore } from '@sentio/clickhouse';
import { eventStreams, readSchemaVersions, subjectName, type Anomaly } from '@sentio/events';
import { deadLetterHeaders, EventProducer } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, openStore, sandbox, waitCaughtUp, type Sandbox } from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';
import { sentio, type CliResult } from './support/replay-cli.js';

const PER_VERSION = 1_000;
const INVALID = 7;
const T0 = Date.now() - 2 * 3_600_000;

function anomaly(i: number, prefix: string): Anomaly {
  return {
    eventId: `${prefix}-${i}`,
    deviceId: `pump-${String(i % 20).padStart(3, '0')}`,
    assetId: 'pump',
    timestampMs: T0 + i * 1000,
    windowStartMs: T0 + i * 1000 - 60_000,
    windowEndMs: T0 + i * 1000,
    score: 1 + (i % 10) / 10,
    threshold: 1,
    contributions: [{ metric: 'vibration', error: 0.5 }],
    modelId: 'window-ae',
    modelVersion: 'v1',
  };
}

/**
 * Schema evolution: anomaly v2 adds an optional field. Records written with v1 and with v2 sit in the same
 * topic; a replay reads both through Avro schema resolution into the current projection, and dead-letters
 * the invalid ones under its own id.
 */
describe('replay: records of schema v1 and v2 both land in the rebuilt projection', () => {
  let box: Sandbox;
  let store: ClickHouseStore;
  let replay: CliResult;
  let letters: Array<Record<string, string>>;

  beforeAll(async () => {
    box = await sandbox('replay_schema');
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    const topic = box.topics.anomalies;
    const [v1, v2] = readSchemaVersions('anomaly');
    expect(v2?.version).toBe(2);
    // A producer still on v1 (registered first, as it was), and one on the current v2.
    const old = await serde.encoderFor<Anomaly>(subjectName(topic), v1!.schema, 'anomaly');
    const current = await EventCodec.register<Anomaly>(serde, eventStreams.anomalies, topic);
    expect(current.encode(anomaly(0, 'x')).readInt32BE(1)).not.toBe(old.schemaId);
    const producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    const messages = [
      ...Array.from({ length: PER_VERSION }, (_, i) => ({ key: 'k', value: old.encode(anomaly(i, 'v1')) })),
      ...Array.from({ length: PER_VERSION }, (_, i) => ({
        key: 'k',
        value: current.encode({ ...anomaly(i, 'v2'), detector: 'window-ae' }),
      })),
      // Invalid: the window ends before it starts.
      ...Array.from({ length: INVALID }, (_, i) => ({
        key: 'k',
        value: current.encode({ ...anomaly(i, 'bad'), windowStartMs: T0 + 1e6, windowEndMs: T0 }),
      })),
    ];
    await producer.send(topic, messages);
    await producer.disconnect();

    const ingest = await PlatformProcess.start('ingest', box.env);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, topic);
    expect(await ingest.stop()).toBe(0);
    replay = await sentio(['replay', 'projection', 'anomalies'], box.env);

    letters = [];
    const consumer = box.kafka.consumer({ groupId: `dlq-reader-${box.namespace}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [box.topics.deadLetter], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        letters.push(
          Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        );
      },
    });
    const deadline = Date.now() + 30_000;
    while (letters.length < 2 * INVALID && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await consumer.disconnect();
    store = openStore(box);
    await ProjectionVersions.attach(store, logger, 0);
  }, 300_000);

  afterAll(async () => {
    await store?.close();
  });

  it('the replay cloned anomalies into version 2 and swapped it in', () => {
    expect(replay.code, replay.stdout + replay.stderr.slice(-3000)).toBe(0);
    expect(replay.stdout).toMatch(/anomalies v2 done: .*swapped in/);
    expect((store.versions as ProjectionVersions).liveVersion('anomalies')).toBe(2);
  });

  it('both schema versions landed, each record once', async () => {
    const rows = await store.query<{ prefix: string; n: string; distinct: string }>(
      `SELECT splitByChar('-', event_id)[1] AS prefix, count() AS n, uniqExact(event_id) AS distinct
       FROM ${store.table(pinned('anomalies', 2))} GROUP BY prefix ORDER BY prefix`,
    );
    expect(rows.map((r) => [r.prefix, Number(r.n), Number(r.distinct)])).toEqual([
      ['v1', PER_VERSION, PER_VERSION],
      ['v2', PER_VERSION, PER_VERSION],
    ]);
  });

  it('the invalid records went to the dead-letter topic again, named by the replay', () => {
    const id = /replay ([0-9a-f]{8}) /.exec(replay.stdout)?.[1];
    expect(id).toBeDefined();
    const fromReplay = letters.filter((h) => h['sentio.replay.id'] === id);
    expect(fromReplay).toHaveLength(INVALID);
    for (const h of fromReplay) {
      expect(h[deadLetterHeaders.component]).toBe('replay');
      expect(h[deadLetterHeaders.reason]).toContain('windowStartMs is after windowEndMs');
    }
    expect(letters.filter((h) => h[deadLetterHeaders.component] === 'ingest')).toHaveLength(INVALID);
  });
});
