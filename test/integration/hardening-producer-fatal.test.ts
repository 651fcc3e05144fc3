import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventProducer } from '@sentio/kafka';
import { createLogger, HealthRegistry, metricsRegistry } from '@sentio/observability';
import kafkajs, { type Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot } from './support/platform-process.js';

const logger = createLogger('test', process.env['SENTIO_TEST_LOG_LEVEL'] ?? 'warn');
const topic = 'fatal-producer';

/** A broker of this test alone: the fault below wipes it, which the shared broker must never see. */
class OwnBroker {
  readonly stateDir = mkdtempSync(join(tmpdir(), 'sentio-fatal-producer-'));
  port = 0;
  private env: NodeJS.ProcessEnv = {};

  async ports(): Promise<void> {
    this.port = await freePort();
    const controller = await freePort();
    this.env = {
      ...process.env,
      SENTIO_STATE_DIR: this.stateDir,
      SENTIO_KAFKA_PORT: String(this.port),
      SENTIO_KAFKA_CONTROLLER_PORT: String(controller),
      SENTIO_KAFKA_HEAP: '512m',
    };
  }

  run(command: 'start' | 'stop'): void {
    execFileSync(join(repoRoot, 'tools/kafka/kafka.sh'), [command], { env: this.env, stdio: 'ignore' });
  }

  /** Stops the broker, removes its data and metadata, and starts a freshly formatted one on the same port. */
  wipe(): void {
    this.run('stop');
    rmSync(join(this.stateDir, 'kafka'), { recursive: true, force: true });
    this.run('start');
  }
}

async function createTopic(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
}

/** Every record of the topic as `value` strings, read by a real consumer up to the high watermarks. */
async function readAll(kafka: Kafka): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  await admin.disconnect();
  const values: string[] = [];
  const consumer = kafka.consumer({ groupId: `read-${Date.now()}` });
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

async function recreatedTotal(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('sentio_kafka_producer_recreated_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `dev-${i % 20}`, value: `${prefix}-${i}` }));

// A producer the broker refuses for its idempotence state, for real: the cluster is wiped and formatted anew
// under a live producer, so it hands out producer ids from 0 again, and another client's new producer gets
// the id the live one still holds. The broker then has sequences for that id on partition 0 which the live
// producer's do not follow: every send of the live producer to that partition is OUT_OF_ORDER_SEQUENCE_NUMBER,
// for good (KafkaJS does not retry it). Measured against Kafka 4.1: a forgotten producer id (a tiny
// producer.id.expiration.ms), a recreated topic or a wiped broker alone do not fail a producer; the broker
// accepts any sequence from an id it has no state for.
describe('producer: a producer the broker refuses for its idempotence state is replaced', () => {
  const broker = new OwnBroker();
  let kafka: Kafka;
  let producer: EventProducer;
  let other: Producer | undefined;
  const health = new HealthRegistry();

  beforeAll(async () => {
    await broker.ports();
    broker.run('start');
    kafka = new kafkajs.Kafka({
      clientId: 'fatal-producer-test',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: kafkajs.logLevel.NOTHING,
    });
    await createTopic(kafka);
    producer = new EventProducer(
      kafka,
      { lingerMs: 50, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    health.register('producer', () => producer.health());
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await other?.disconnect().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    broker.run('stop');
    rmSync(broker.stateDir, { recursive: true, force: true });
  }, 60_000);

  it('re-sends what the refused producer held, each event once, and says so in health and metrics', async () => {
    // The live producer takes the first producer id of the first cluster and writes both partitions.
    await producer.send(topic, records('before', 40));
    const recreatedBefore = await recreatedTotal();

    broker.wipe();
    await createTopic(kafka);
    // Another client's producer: the new cluster's first producer id again, writing partition 0 first.
    other = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await other.connect();
    await other.send({
      topic,
      acks: -1,
      messages: records('other', 3).map((m) => ({ ...m, partition: 0 })),
    });

    // Sent around the fault: the first request is refused for partition 0 (written for partition 1).
    await Promise.all([
      producer.send(topic, records('around-a', 40)),
      producer.send(topic, records('around-b', 40)),
    ]);
    await producer.send(topic, records('after', 40));

    const values = await readAll(kafka);
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const expected = [
      ...records('other', 3),
      ...records('around-a', 40),
      ...records('around-b', 40),
      ...records('after', 40),
    ].map((m) => m.value);
    // The wipe took the "before" records with it; everything sent after it is there exactly once.
    expect(values).toHaveLength(expected.length);
    for (const v of expected) expect(counts.get(v), v).toBe(1);

    expect(await recreatedTotal()).toBe(recreatedBefore + 1);
    const summary = await health.summary();
    const report = summary.components['producer']!;
    expect(report.state).toBe('up');
    expect(report.detail).toMatchObject({ recreated: 1, queuedRecords: 0 });
    expect((report.detail!['lastError'] as { message: string }).message).toMatch(/out of order sequence/i);
  }, 180_000);
});
