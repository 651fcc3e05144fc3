import type { Kafka } from 'kafkajs';

/** Records of `topic` the group has not committed yet, over all partitions (nothing committed counts all). */
export async function consumerLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.reduce((sum, end) => {
      const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      return sum + Math.max(0, Number(end.high) - Math.max(0, Number(offset)));
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offset (the next record to read) per partition of `topic`; absent when none. */
export async function committedOffsets(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(
      (committed?.partitions ?? [])
        .filter((p) => Number(p.offset) >= 0)
        .map((p) => [p.partition, BigInt(p.offset)] as const),
    );
  } finally {
    await admin.disconnect();
  }
}
