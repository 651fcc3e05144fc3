import { randomBytes } from 'node:crypto';
import type { Logger } from '@sentio/observability';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface ReplayRange {
  topic: string;
  partition: number;
  /** First offset read (inclusive). */
  from: bigint;
  /** Offset where reading stops (exclusive): the first record the group consumer hands over. */
  to: bigint;
}

/**
 * The offset of the partition's first record written at or after `timestampMs` (the log's timestamps;
 * producers stamp records when they send them, close to event time for live telemetry), or the
 * partition's end when there is none.
 */
export async function offsetAtTime(
  kafka: Kafka,
  topic: string,
  partition: number,
  timestampMs: number,
): Promise<bigint> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    const found = offsets.find((o) => o.partition === partition);
    if (!found) throw new Error(`topic ${topic} has no partition ${partition}`);
    return BigInt(found.offset);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads records [from, to) of one partition, in order, and hands them to `onMessages` batch by batch.
 * KafkaJS only reads through a consumer group, so this joins a throwaway group of its own (one member:
 * every partition), seeks the partition, pauses the others, never commits, and deletes the group after.
 * `keepAlive` runs between batches: the caller's own group membership must not expire while it waits.
 */
export async function replayPartition(
  kafka: Kafka,
  range: ReplayRange,
  onMessages: (messages: KafkaMessage[]) => Promise<void>,
  keepAlive: () => Promise<void>,
  logger: Logger,
  timeoutMs = 120_000,
): Promise<number> {
  if (range.from >= range.to) return 0;
  const groupId = `sentio-replay-${range.topic}-${range.partition}-${randomBytes(4).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 8 * 1024 * 1024 });
  const admin = kafka.admin();
  let read = 0;
  try {
    await admin.connect();
    const partitions = (await admin.fetchTopicOffsets(range.topic)).map((o) => o.partition);
    await consumer.connect();
    await consumer.subscribe({ topic: range.topic, fromBeginning: true });
    const others = partitions.filter((p) => p !== range.partition);
    let finish: (error?: Error) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      finish = (error) => (error ? reject(error) : resolve());
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // Seek once the group has given this member its partitions (KafkaJS applies it at the next fetch).
      if (others.length > 0) consumer.pause([{ topic: range.topic, partitions: others }]);
      consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.from) });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => finish(payload.error));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale }) => {
        if (batch.partition !== range.partition || isStale()) return;
        const wanted = batch.messages.filter((m) => {
          const offset = BigInt(m.offset);
          return offset >= range.from && offset < range.to;
        });
        if (wanted.length > 0) await onMessages(wanted);
        read += wanted.length;
        await keepAlive();
        const last = BigInt(batch.lastOffset());
        if (last + 1n >= range.to || BigInt(batch.highWatermark) <= last + 1n) finish();
      },
    });
    const timer = setTimeout(
      () => finish(new Error(`replay of ${range.topic}/${range.partition} took over ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await finished;
    } finally {
      clearTimeout(timer);
    }
    return read;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin
      .deleteGroups([groupId])
      .catch((error: unknown) => logger.warn({ err: error, groupId }, 'could not delete the replay group'))
      .finally(() => admin.disconnect());
  }
}
