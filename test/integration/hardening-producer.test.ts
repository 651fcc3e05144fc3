import { ensureTopics, EventProducer, RecordRefusedError, RecordTooLargeError } from '@sentio/kafka';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, sandbox, type Sandbox } from './support/backbone.js';

/** Every record of a topic, as strings, read with the admin's offsets and a throwaway consumer. */
async function readAll(box: Sandbox, admin: Admin, topic: string): Promise<string[]> {
  const total = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  const values: string[] = [];
  if (total === 0) return values;
  const consumer = box.kafka.consumer({ groupId: `read-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((done) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        values.push(message.value!.toString());
        if (values.length === total) done();
      },
    });
  });
  await consumer.disconnect();
  return values;
}

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `dev-${i % 17}`, value: `${prefix}-${i}` }));

// The failure behind the "one 2 MB MQTT message stops every connector" report: a record the broker refuses
// shared a produce request with everyone else's records; KafkaJS failed the whole request and rolled back
// the sequences of partitions the broker had written, and every later request was "out of order".
describe('producer: one refused record never fails or blocks the others', () => {
  let box: Sandbox;
  let admin: Admin;
  let producer: EventProducer;
  let small: string;

  beforeAll(async () => {
    box = await sandbox('hardening_producer');
    admin = box.kafka.admin();
    await admin.connect();
    // A topic whose own limit is below the producer's: the broker, not the producer, refuses its big records.
    small = `${box.namespace}.small-limit`;
    const spec = {
      partitions: 2,
      replicationFactor: 1,
      cleanupPolicy: 'delete' as const,
      retentionMs: 3600_000,
    };
    await ensureTopics(
      box.kafka,
      [{ ...spec, name: small, config: { 'max.message.bytes': '20000' } }],
      logger,
    );
    // A long linger so that every send below shares one produce request.
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 200, batchSize: 10_000, batchBytes: 900_000, compression: 'none', maxRecordBytes: 500_000 },
      logger,
    );
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
  });

  it('refuses an over-limit record at once, alone', async () => {
    const big = producer.send(box.topics.telemetry, [{ key: 'x', value: Buffer.alloc(2 * 1024 * 1024) }]);
    const good = producer.send(box.topics.telemetry, records('first', 50));
    await expect(big).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(good).resolves.toBeUndefined();
  });

  it('fails only the send the broker refuses; its request neighbours are written once, and later sends go on', async () => {
    const outcomes = await Promise.allSettled([
      producer.send(box.topics.telemetry, records('mixed', 300)),
      producer.send(small, [{ key: 'big', value: Buffer.alloc(60_000, 1) }]),
      producer.send(small, records('small', 10)),
      producer.send(box.topics.logs, records('logs', 40)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refusal = (outcomes[1] as PromiseRejectedResult).reason as RecordRefusedError;
    expect(refusal).toBeInstanceOf(RecordRefusedError);
    expect(refusal.type).toBe('MESSAGE_TOO_LARGE');

    // The producer is not left "out of order": the next requests, to the same partitions, go through.
    await producer.send(box.topics.telemetry, records('after', 300));
    await producer.send(small, records('small-after', 10));
    expect(producer.health().state).toBe('up');

    const telemetry = await readAll(box, admin, box.topics.telemetry);
    const expected = [...records('first', 50), ...records('mixed', 300), ...records('after', 300)].map(
      (r) => r.value,
    );
    expect(telemetry.sort()).toEqual(expected.sort());
    const smallValues = await readAll(box, admin, small);
    expect(smallValues.sort()).toEqual(
      [...records('small', 10), ...records('small-after', 10)].map((r) => r.value).sort(),
    );
    expect((await readAll(box, admin, box.topics.logs)).sort()).toEqual(
      records('logs', 40)
        .map((r) => r.value)
        .sort(),
    );
  });
});
