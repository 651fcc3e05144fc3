import { AvroSerde, EventCodec } from '@sentio/avro';
import { MetricsRepository, type ClickHouseStore } from '@sentio/clickhouse';
import { eventStreams, type DeviceLogRecord, type TelemetrySample } from '@sentio/events';
import { deadLetterHeaders } from '@sentio/kafka';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openStore,
  sandbox,
  telemetry,
  telemetryProducer,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

const GOOD = 500;

describe('ingest: records that cannot be used go to the dead-letter topic', () => {
  let box: Sandbox;
  let store: ClickHouseStore;
  let platform: PlatformProcess;
  let letters: KafkaMessage[];
  const bad: Array<{ name: string; value: Buffer | null; reason: RegExp }> = [];

  beforeAll(async () => {
    box = await sandbox('dead_letter');
    const { codec, producer, send } = await telemetryProducer(box);
    const valid = telemetry(GOOD);
    const one = (overrides: Partial<TelemetrySample>) =>
      codec.encode({ ...valid[0]!, eventId: 'bad', ...overrides });
    const encoded = codec.encode(valid[0]!);
    const logCodec = await EventCodec.register<DeviceLogRecord>(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.logs,
      box.topics.logs,
    );
    bad.push(
      { name: 'not avro', value: Buffer.from('{"deviceId":"x","value":1}'), reason: /unknown magic byte/ },
      { name: 'too short', value: Buffer.from([0, 0]), reason: /shorter than the 5-byte/ },
      { name: 'tombstone', value: null, reason: /shorter than the 5-byte/ },
      {
        name: 'unknown schema id',
        value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), encoded.subarray(5)]),
        reason: /schema id \d+ unknown/,
      },
      {
        name: 'truncated',
        value: encoded.subarray(0, encoded.length - 6),
        reason: /truncated|does not decode/,
      },
      { name: 'trailing bytes', value: Buffer.concat([encoded, Buffer.from([1, 2, 3])]), reason: /consumed/ },
      {
        name: 'another event type',
        value: logCodec.encode({
          eventId: 'l1',
          deviceId: 'd',
          timestampMs: Date.now(),
          severity: 'INFO',
          body: 'x',
          attributes: {},
          traceId: null,
          spanId: null,
          source: 't',
        }),
        reason: /cannot be read as|does not decode|consumed/,
      },
      { name: 'epoch zero', value: one({ timestampMs: 0 }), reason: /before 2000-01-01/ },
      {
        name: 'far future',
        value: one({ timestampMs: Date.now() + 30 * 86_400_000 }),
        reason: /in the future/,
      },
      { name: 'NaN', value: one({ value: Number.NaN }), reason: /not a finite number/ },
      { name: 'empty device', value: one({ deviceId: ' ' }), reason: /deviceId is empty/ },
      {
        name: 'null but GOOD',
        value: one({ value: null, quality: 'GOOD' }),
        reason: /value is null but quality is GOOD/,
      },
      { name: 'bad metric name', value: one({ metric: 'drop table;' }), reason: /not a metric name/ },
    );
    // Bad records interleaved with good ones on the same partition: the good ones around them must land.
    const messages = valid.map((s) => ({ key: 'dev-0000', value: codec.encode(s) }));
    bad.forEach((b, i) => messages.splice(i * 30 + 5, 0, { key: 'dev-0000', value: b.value as Buffer }));
    await send(messages);
    await producer.disconnect();

    platform = await PlatformProcess.start('ingest', box.env);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    letters = await readAll(box, bad.length);
  });

  afterAll(async () => {
    await store?.close();
  });

  it('keeps running: /health is up after the bad records', async () => {
    const health = (await (await fetch(`${platform.baseUrl}/health`)).json()) as { status: string };
    expect(health.status).toBe('up');
    expect(await platform.metric('sentio_ingest_dead_letters_total')).toBe(bad.length);
  });

  it('dead-letters each bad record once, byte for byte, with its reason and origin', () => {
    expect(letters).toHaveLength(bad.length);
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    for (const b of bad) {
      const letter = letters.find((m) => (b.value === null ? m.value === null : m.value?.equals(b.value)));
      expect(letter, b.name).toBeDefined();
      expect(header(letter!, deadLetterHeaders.reason), b.name).toMatch(b.reason);
      expect(header(letter!, deadLetterHeaders.sourceTopic)).toBe(box.topics.telemetry);
      expect(header(letter!, deadLetterHeaders.component)).toBe('ingest');
      expect(Number(header(letter!, deadLetterHeaders.sourceOffset))).toBeGreaterThanOrEqual(0);
    }
  });

  it('stores every good record and nothing else', async () => {
    expect(await platform.stop()).toBe(0);
    store = openStore(box);
    const metrics = new MetricsRepository(store);
    expect(await metrics.count()).toBe(GOOD);
    expect(await metrics.countDistinctEvents()).toBe(GOOD);
  });
});

async function readAll(box: Sandbox, expected: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const consumer = box.kafka.consumer({ groupId: `dlq-reader-${box.namespace}` });
  const seen: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: box.topics.deadLetter, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${seen.length} of ${expected} dead letters`)),
      timeoutMs,
    );
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message);
        if (seen.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  // Anything beyond the expected count would be a duplicate: give it a moment to show up.
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  return seen;
}
