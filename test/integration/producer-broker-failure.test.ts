import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createKafka, ensureTopics, EventProducer } from '@sentio/kafka';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from './support/backbone.js';
import { freeBase } from './support/kafka-cluster.js';
import { repoRoot } from './support/platform-process.js';

const run = promisify(execFile);
const cluster = join(repoRoot, 'tools/kafka/cluster.sh');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many times each sequence number is in the topic, read partition by partition up to the high mark. */
async function countAll(kafka: Kafka, admin: Admin, topic: string): Promise<Map<number, number>> {
  const highs = new Map(
    (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)] as const),
  );
  const counts = new Map<number, number>();
  const left = new Set([...highs].filter(([, high]) => high > 0n).map(([p]) => p));
  if (left.size === 0) return counts;
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((done) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const seq = Number(message.value!.toString());
          counts.set(seq, (counts.get(seq) ?? 0) + 1);
          if (BigInt(message.offset) + 1n >= highs.get(batch.partition)!) left.delete(batch.partition);
        }
        if (left.size === 0) done();
      },
    });
  });
  await consumer.disconnect();
  return counts;
}

/**
 * The producer under broker failure, on a three-broker KRaft cluster (tools/kafka/cluster.sh, replication
 * factor 3, min.insync.replicas 2): callers stream records with unique sequence numbers through one
 * EventProducer while the leader of a partition is SIGKILLed and restarted, twice (the second time another
 * broker, so leadership moves again). A caller retries a send that rejects, as ingest's callers do. Every
 * record whose send resolved must be in Kafka exactly once, and after the retries every record is.
 */
describe('producer: exactly once in Kafka while brokers are killed', () => {
  const env = { SENTIO_STATE_DIR: '', SENTIO_KAFKA_CLUSTER_PORT: '' };
  const clusterEnv = () => ({ env: { ...process.env, ...env }, timeout: 240_000 });
  let kafka: Kafka;
  let admin: Admin;

  beforeAll(async () => {
    env.SENTIO_STATE_DIR = mkdtempSync(join(tmpdir(), 'sentio-producer-failure-'));
    env.SENTIO_KAFKA_CLUSTER_PORT = String(await freeBase());
    await run(cluster, ['start'], clusterEnv());
    const { stdout } = await run(cluster, ['bootstrap'], clusterEnv());
    kafka = createKafka({ brokers: stdout.trim().split(','), clientId: 'producer-failure' }, logger);
    admin = kafka.admin();
    await admin.connect();
  }, 300_000);

  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined);
    await run(cluster, ['stop'], clusterEnv()).catch(() => undefined);
    if (env.SENTIO_STATE_DIR) rmSync(env.SENTIO_STATE_DIR, { recursive: true, force: true });
  }, 150_000);

  it('every resolved send is in Kafka once; rejected sends retried by the caller land once too', async () => {
    const topic = 'producer-failure.records';
    await ensureTopics(
      kafka,
      [{ name: topic, partitions: 12, replicationFactor: 3, cleanupPolicy: 'delete', retentionMs: 3600_000 }],
      logger,
    );
    const producer = new EventProducer(
      kafka,
      { lingerMs: 5, batchSize: 2000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    let next = 0;
    let stop = false;
    let rejected = 0;
    const resolved = new Set<number>();
    const errors = new Map<string, number>();
    // 24 callers, each sending 20 keyed records at a time and retrying a send that rejects.
    const caller = async () => {
      while (!stop) {
        const seqs = Array.from({ length: 20 }, () => next++);
        const messages = seqs.map((s) => ({ key: `device-${s % 97}`, value: String(s) }));
        for (;;) {
          try {
            await producer.send(topic, messages);
            for (const s of seqs) resolved.add(s);
            break;
          } catch (error) {
            rejected += seqs.length;
            const name = (error as Error).message.slice(0, 80);
            errors.set(name, (errors.get(name) ?? 0) + 1);
            await sleep(100);
          }
        }
      }
    };
    const callers = Array.from({ length: 24 }, caller);

    const leaderOf = async (partition: number) => {
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      return meta!.partitions.find((p) => p.partitionId === partition)!.leader;
    };
    const killAndRestart = async (node: number) => {
      await run(cluster, ['stop-node', String(node), 'KILL'], clusterEnv());
      await sleep(4000);
      await run(cluster, ['start-node', String(node)], clusterEnv());
      await run(cluster, ['wait', '180'], clusterEnv());
    };
    // The stream starts as the topic is created: its first requests meet leaders still being elected.
    await sleep(3000);
    const first = await leaderOf(0);
    await killAndRestart(first);
    // Long enough after each restart for the stream to resume (KafkaJS backs off up to seconds meanwhile).
    await sleep(10_000);
    // Another broker this time: the partitions it leads move while the first one catches up.
    let second = await leaderOf(1);
    if (second === first) second = (first % 3) + 1;
    await killAndRestart(second);
    await sleep(10_000);
    stop = true;
    await Promise.all(callers);
    await producer.flush();
    const recreated = producer.health().detail?.['recreated'];
    await producer.disconnect();

    const counts = await countAll(kafka, admin, topic);
    const missing = [...resolved].filter((s) => !counts.has(s));
    const duplicated = [...counts].filter(([, n]) => n > 1);
    const report = {
      sent: next,
      resolved: resolved.size,
      rejectedThenRetried: rejected,
      inKafka: [...counts.values()].reduce((a, b) => a + b, 0),
      missing: missing.length,
      duplicated: duplicated.length,
      recreated,
      killed: [first, second],
      errors: Object.fromEntries(errors),
    };
    process.stdout.write(`producer-broker-failure: ${JSON.stringify(report)}\n`);
    expect(resolved.size).toBe(next);
    expect(missing.slice(0, 10)).toEqual([]);
    expect(duplicated.slice(0, 10)).toEqual([]);
    expect(report.inKafka).toBe(next);
  }, 600_000);
});
