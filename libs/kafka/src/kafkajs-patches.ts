import { createRequire } from 'node:module';

/**
 * KafkaJS 2.2.4 (its last release) groups a send's messages per partition by copying the partition's array
 * for every message, which is quadratic: 10,000 messages in one request cost ~100 ms of CPU, most of the
 * producer's time here. Upstream's fix (tulios/kafkajs#1576, linear grouping) was never released, so the
 * module is replaced before KafkaJS loads it; behaviour is the same, partitioner calls and order included.
 * Imported for its effect by kafka-client.ts, ahead of kafkajs itself.
 */
type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;

function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

const require = createRequire(import.meta.url);
const path = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
require(path);
const cached = require.cache[path];
if (!cached) throw new Error(`kafkajs patch: ${path} is not in the module cache`);
cached.exports = groupMessagesPerPartition;
