import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { PartitionOffsets } from './kafka-offsets.util.js';

/**
 * Hands every record in [start, end) of each partition of `topic` to `handle`, batch by batch (partitions one
 * at a time, in offset order within each), from a consumer group of its own that never commits.
 */
export async function readRange(
  kafka: Kafka,
  topic: string,
  start: PartitionOffsets,
  end: PartitionOffsets,
  handle: (partition: number, messages: KafkaMessage[]) => Promise<void>,
): Promise<void> {
  const remaining = new Set([...end].filter(([p, e]) => (start.get(p) ?? 0n) < e).map(([p]) => p));
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId: `sentio-range-${randomUUID()}`, maxWaitTimeInMs: 250 });
  let finish!: () => void;
  let failed: unknown;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failed = payload.error;
    finish();
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const p = batch.partition;
        if (!remaining.has(p)) return;
        const from = start.get(p) ?? 0n;
        const to = end.get(p)!;
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= from && BigInt(m.offset) < to);
        if (messages.length > 0) await handle(p, messages);
        resolveOffset(batch.lastOffset());
        if (BigInt(batch.lastOffset()) + 1n >= to) {
          remaining.delete(p);
          consumer.pause([{ topic, partitions: [p] }]);
          if (remaining.size === 0) finish();
        }
      },
    });
    for (const partition of remaining) {
      consumer.seek({ topic, partition, offset: String(start.get(partition) ?? 0n) });
    }
    await finished;
    await consumer.stop();
    if (failed) throw failed;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
