import type { Kafka } from 'kafkajs';

/** Per partition of one topic: an offset (the next record to read, or the end of a range, exclusive). */
export type PartitionOffsets = Map<number, bigint>;

export interface TopicSnapshot {
  low: PartitionOffsets;
  high: PartitionOffsets;
}

async function withAdmin<T>(
  kafka: Kafka,
  work: (admin: ReturnType<Kafka['admin']>) => Promise<T>,
): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The first offset still in the log (retention deletes below it) and the end, per partition. */
export function watermarks(kafka: Kafka, topic: string): Promise<TopicSnapshot> {
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return {
      low: new Map(offsets.map((o) => [o.partition, BigInt(o.low)])),
      high: new Map(offsets.map((o) => [o.partition, BigInt(o.high)])),
    };
  });
}

/**
 * Kafka's offsets-for-times, per partition: the first offset whose record timestamp is at or after `ms`
 * (the end of the partition when none is), never below the low watermark.
 */
export function offsetsForTime(kafka: Kafka, topic: string, ms: number): Promise<PartitionOffsets> {
  return withAdmin(kafka, async (admin) => {
    const [byTime, ends] = await Promise.all([
      admin.fetchTopicOffsetsByTimestamp(topic, ms),
      admin.fetchTopicOffsets(topic),
    ]);
    const result: PartitionOffsets = new Map();
    for (const end of ends) {
      const found = byTime.find((o) => o.partition === end.partition)?.offset;
      const offset = found === undefined || found === '-1' ? BigInt(end.high) : BigInt(found);
      result.set(end.partition, offset < BigInt(end.low) ? BigInt(end.low) : offset);
    }
    return result;
  });
}

/**
 * What a consumer group has committed on the topic, per partition; a partition it never committed is at
 * the low watermark (the group would start there).
 */
export function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<PartitionOffsets> {
  return withAdmin(kafka, async (admin) => {
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const result: PartitionOffsets = new Map();
    for (const end of ends) {
      const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      const low = BigInt(end.low);
      result.set(end.partition, offset === '-1' || BigInt(offset) < low ? low : BigInt(offset));
    }
    return result;
  });
}

export function sumGaps(from: PartitionOffsets, to: PartitionOffsets): number {
  let sum = 0n;
  for (const [p, end] of to) {
    const start = from.get(p) ?? 0n;
    if (end > start) sum += end - start;
  }
  return Number(sum);
}

export function sameOffsets(a: PartitionOffsets, b: PartitionOffsets): boolean {
  return a.size === b.size && [...a].every(([p, o]) => b.get(p) === o);
}
