import { randomUUID } from 'node:crypto';
import type { SinkBatchesRepository } from '@sentio/clickhouse';
import { ProjectionSink, type SinkOptions, type StreamProjection } from '@sentio/ingest';
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
  /** Writes the version's frontier: the next offset of each partition, after everything below it landed. */
  commitFrontiers(frontiers: Array<{ topic: string; partition: number; nextOffset: string }>): Promise<void>;
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
  const frontier = new FrontierBatcher(o.topic, o.commitFrontiers);
  const sink = new ProjectionSink(
    o.streams,
    frontier.writeAheadThrough(o.batches),
    o.deadLetters,
    frontier.commit,
    o.sink,
    o.logger,
  );
  sink.onAssignment(todo.map((partition) => ({ topic: o.topic, partition })));
  sink.start();
  // Everything read is inserted and its frontier written: a clean checkpoint.
  const land = async () => {
    await sink.drain();
    await frontier.flush();
  };
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
      await land();
      return 'stopped';
    }
  }
  const remaining = new Set(todo.filter((p) => (position.get(p) ?? 0n) < o.end.get(p)!));
  const slice = Math.max(500, Math.floor(o.sink.maxBatchRecords / Math.max(1, remaining.size)));
  if (remaining.size === 0) {
    await land();
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
    // A loaded engine can keep one insert (and with it the heartbeat) past half a minute; a member dropped
    // for that rejoins and is sought back to its positions (below), but the rejoin costs seconds.
    sessionTimeout: 120_000,
    rebalanceTimeout: 120_000,
    heartbeatInterval: 3_000,
    retry: { retries: 10, initialRetryTime: 200 },
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    failed = payload.error;
    finish('stopped');
  });
  // The group never commits: after a rejoin (a session lost under load) the consumer would start the
  // partitions over from the beginning, so every join after the first seeks them back to where this pass is.
  let joins = 0;
  let running = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (++joins === 1 || !running) return;
    for (const partition of remaining)
      consumer.seek({ topic: o.topic, partition, offset: String(position.get(partition) ?? 0n) });
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
      // Partitions decode while another's block is inserted (the engine works off the main thread).
      partitionsConsumedConcurrently: Math.max(1, todo.length),
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const p = batch.partition;
        if (!remaining.has(p) || o.signal.aborted || !isRunning() || isStale()) return;
        const from = position.get(p) ?? 0n;
        const end = o.end.get(p)!;
        const messages = batch.messages.filter((m) => {
          const offset = BigInt(m.offset);
          return offset >= from && offset < end;
        });
        // In slices: partitions decode concurrently, and each waits once the topic's buffer is full, so what
        // is buffered stays near one block, and a pause stops after the slice at hand.
        for (let i = 0; i < messages.length; i += slice) {
          if (o.signal.aborted) return;
          const part = messages.slice(i, i + slice);
          await sink.handle({
            topic: batch.topic,
            partition: p,
            messages: part,
            highWatermark: batch.highWatermark,
            heartbeat,
          });
          position.set(p, BigInt(part.at(-1)!.offset) + 1n);
          o.onProgress(part.length, position);
        }
        resolveOffset(batch.lastOffset());
        // Offsets missing below the end (compacted away, transaction markers) end the partition too.
        if (BigInt(batch.lastOffset()) + 1n >= end) done(p);
      },
    });
    for (const partition of remaining) {
      consumer.seek({ topic: o.topic, partition, offset: String(position.get(partition) ?? 0n) });
    }
    running = true;
    const how = await finished;
    await consumer.stop();
    if (failed) throw failed;
    // Everything read is inserted and committed: a pause is a clean checkpoint, a finished pass complete.
    await land();
    return how;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * The version's frontier written once per flush cycle, not once per partition: the sink's commits are kept
 * and written in one insert just before the next cycle is written ahead (and when the pass lands). Order is
 * what exactly-once needs: a cycle's frontier is durable before any later cycle's write-ahead record, so
 * after a crash the newest write-ahead cycle is still the one to repeat (same ranges, same token).
 */
class FrontierBatcher {
  private readonly pending = new Map<number, string>();

  constructor(
    private readonly topic: string,
    private readonly write: PassOptions['commitFrontiers'],
  ) {}

  readonly commit = (topic: string, partition: number, nextOffset: string): Promise<void> => {
    if (topic !== this.topic) throw new Error(`a pass over ${this.topic} got a commit of ${topic}`);
    this.pending.set(partition, nextOffset);
    return Promise.resolve();
  };

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const frontiers = [...this.pending].map(([partition, nextOffset]) => ({
      topic: this.topic,
      partition,
      nextOffset,
    }));
    await this.write(frontiers);
    for (const f of frontiers)
      if (this.pending.get(f.partition) === f.nextOffset) this.pending.delete(f.partition);
  }

  /** The write-ahead log, with the frontier flushed before each new record. */
  writeAheadThrough(batches: SinkBatchesRepository): SinkBatchesRepository {
    const record: SinkBatchesRepository['record'] = async (...args) => {
      await this.flush();
      return batches.record(...args);
    };
    return Object.create(batches, { record: { value: record } }) as SinkBatchesRepository;
  }
}
