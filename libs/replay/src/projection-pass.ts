import { randomUUID } from 'node:crypto';
import type { SinkBatchesRepository } from '@sentio/clickhouse';
import { ProjectionSink, type Committer, type SinkOptions, type StreamProjection } from '@sentio/ingest';
import type { DeadLetterPublisher } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import { watermarks, type PartitionOffsets } from './kafka-offsets.util.js';
import type { TopicArchive } from './topic-archive.js';

export interface PassOptions {
  kafka: Kafka;
  topic: string;
  /** Per partition, the first offset to read (the version's frontier). */
  start: PartitionOffsets;
  /** Per partition, where to stop (exclusive). */
  end: PartitionOffsets;
  /** The topic's stream, projected into the version being filled. */
  streams: StreamProjection<unknown>[];
  batches: SinkBatchesRepository;
  deadLetters: DeadLetterPublisher;
  commit: Committer;
  sink: SinkOptions;
  logger: Logger;
  /** Records handed to the sink, and each partition's position after them. */
  onProgress(records: number, position: PartitionOffsets): void;
  /** Aborted: stop at the next batch, land and commit what is buffered (pause and cancel). */
  signal: AbortSignal;
  /** Where records that retention deleted from Kafka are read from, before Kafka takes over. */
  archive?: TopicArchive;
}

/**
 * One bounded read of a topic, from the start offsets up to the end offsets of every partition, through
 * ingest's own ProjectionSink: the same write-ahead record, the same dedup tokens (under the replay's
 * write-ahead group), the same dead-lettering. A pass killed anywhere restarts from the committed frontier
 * and repeats the written-ahead range exactly, so the version holds every record once.
 */
export async function runPass(o: PassOptions): Promise<'done' | 'stopped'> {
  const todo = [...o.end].filter(([p, end]) => (o.start.get(p) ?? 0n) < end).map(([p]) => p);
  if (todo.length === 0) return 'done';
  const sink = new ProjectionSink(o.streams, o.batches, o.deadLetters, o.commit, o.sink, o.logger);
  sink.onAssignment(todo.map((partition) => ({ topic: o.topic, partition })));
  sink.start();
  const position = new Map(o.start);
  // Offsets below the log's start are gone from Kafka: read them from the archive first, seamlessly.
  const { low } = await watermarks(o.kafka, o.topic);
  for (const p of todo) {
    const from = position.get(p) ?? 0n;
    const kafkaStart = low.get(p) ?? 0n;
    const until = o.end.get(p)! < kafkaStart ? o.end.get(p)! : kafkaStart;
    if (from >= until) continue;
    if (!o.archive)
      throw new Error(
        `${o.topic}/${p}: records ${from}..${until - 1n} are no longer in Kafka and no archive is configured`,
      );
    for await (const messages of o.archive.read(o.topic, p, from, until)) {
      if (o.signal.aborted) break;
      await sink.handle({
        topic: o.topic,
        partition: p,
        messages,
        highWatermark: String(until),
        heartbeat: async () => undefined,
      });
      position.set(p, BigInt(messages.at(-1)!.offset) + 1n);
      o.onProgress(messages.length, position);
    }
    if (o.signal.aborted) {
      await sink.drain();
      return 'stopped';
    }
  }
  const remaining = new Set(todo.filter((p) => (position.get(p) ?? 0n) < o.end.get(p)!));
  if (remaining.size === 0) {
    await sink.drain();
    return 'done';
  }
  let finish!: (how: 'done' | 'stopped') => void;
  let failed: unknown;
  const finished = new Promise<'done' | 'stopped'>((resolve) => (finish = resolve));
  const onAbort = () => finish('stopped');
  o.signal.addEventListener('abort', onAbort, { once: true });
  if (o.signal.aborted) finish('stopped');
  // A group of its own that never commits: where to read is the version's frontier, not the group's.
  const consumer = o.kafka.consumer({
    groupId: `sentio-replay-${randomUUID()}`,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 64 * 1024 * 1024,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    retry: { retries: 10, initialRetryTime: 200 },
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failed = payload.error;
    finish('stopped');
  });
  const done = (partition: number) => {
    if (!remaining.delete(partition)) return;
    consumer.pause([{ topic: o.topic, partitions: [partition] }]);
    if (remaining.size === 0) finish('done');
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const p = batch.partition;
        if (!remaining.has(p) || o.signal.aborted || !isRunning() || isStale()) return;
        const from = position.get(p) ?? 0n;
        const end = o.end.get(p)!;
        const messages = batch.messages.filter((m) => {
          const offset = BigInt(m.offset);
          return offset >= from && offset < end;
        });
        if (messages.length > 0) {
          await sink.handle({
            topic: batch.topic,
            partition: p,
            messages,
            highWatermark: batch.highWatermark,
            heartbeat,
          });
          position.set(p, BigInt(messages.at(-1)!.offset) + 1n);
          o.onProgress(messages.length, position);
        }
        resolveOffset(batch.lastOffset());
        // Offsets missing below the end (compacted away, transaction markers) end the partition too.
        if (BigInt(batch.lastOffset()) + 1n >= end) done(p);
      },
    });
    for (const partition of remaining) {
      consumer.seek({ topic: o.topic, partition, offset: String(position.get(partition) ?? 0n) });
    }
    const how = await finished;
    await consumer.stop();
    if (failed) throw failed;
    // Everything read is inserted and committed: a pause is a clean checkpoint, a finished pass complete.
    await sink.drain();
    return how;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}
