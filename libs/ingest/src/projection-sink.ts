import type { EventCodec } from '@sentio/avro';
import type { Projection, SinkBatch, SinkBatchesRepository } from '@sentio/clickhouse';
import type { ConsumedBatch, DeadLetter, DeadLetterPublisher } from '@sentio/kafka';
import { counter, histogram, type Logger } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import { KeyedLock } from './keyed-lock.util.js';
import type { Validator } from './record-validation.js';

/** One event stream and the table it is projected into. */
export interface StreamProjection<T> {
  topic: string;
  codec: EventCodec<T>;
  projection: Projection<T>;
  validate: Validator<T>;
}

export interface SinkOptions {
  groupId: string;
  flushIntervalMs: number;
  maxBatchRecords: number;
  /** Called after every insert, before the commit: the crash test's hook. */
  afterInsert?: (inserts: number) => void;
}

interface PartitionBuffer<T> {
  topic: string;
  partition: number;
  rows: T[];
  dead: DeadLetter[];
  firstOffset: bigint | undefined;
  lastOffset: bigint | undefined;
  openedAt: number;
  /** A range written ahead before a crash: it is repeated exactly, with the same token, before anything new. */
  replay: { first: bigint; last: bigint } | undefined;
  /** Offsets below this were already handled in this session (redelivered after a rebalance). */
  nextOffset: bigint | undefined;
  /** Consecutive failed flushes, and when the timer may try again: ClickHouse down is retried with backoff. */
  failures: number;
  retryAt: number;
}

/** Whatever the sink can commit: the partition, its commit function, and the offset after the range. */
export type Committer = (topic: string, partition: number, nextOffset: string) => Promise<void>;

const projected = counter('sentio_ingest_rows_total', 'Rows inserted into ClickHouse projections', ['table']);
const deadLettered = counter(
  'sentio_ingest_dead_letters_total',
  'Records sent to the dead-letter topic by ingest',
  ['topic'],
);
const flushSeconds = histogram(
  'sentio_ingest_flush_seconds',
  'Write-ahead, insert, dead letters and commit of one batch',
  ['table'],
);
const batchRows = histogram(
  'sentio_ingest_batch_records',
  'Records per flushed batch',
  ['table'],
  [10, 100, 1000, 5000, 20000, 50000, 100000],
);

/**
 * Exactly-once projection of Kafka partitions into ClickHouse.
 *
 * Records are buffered per partition and flushed as one block covering a contiguous offset range. Each flush
 * first writes the range ahead (sink_batches), then inserts the rows with a deduplication token derived from
 * the range, then commits the offset after it. After a crash anywhere in between, the partition restarts at
 * the committed offset; the range written ahead is rebuilt record for record and inserted again under the
 * same token, which ClickHouse drops if the first insert had landed. Records that cannot be decoded or fail
 * validation go to the dead-letter topic (at least once) and do not stop the partition.
 */
export class ProjectionSink {
  private readonly byTopic = new Map<string, StreamProjection<unknown>>();
  private readonly buffers = new Map<string, PartitionBuffer<unknown>>();
  private readonly pendingReplays = new Map<string, SinkBatch>();
  private readonly lock = new KeyedLock();
  private ready: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private inserts = 0;
  private stopped = false;

  constructor(
    streams: StreamProjection<unknown>[],
    private readonly batches: SinkBatchesRepository,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly commit: Committer,
    private readonly options: SinkOptions,
    private readonly logger: Logger,
  ) {
    for (const s of streams) this.byTopic.set(s.topic, s);
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  start(): void {
    this.timer = setInterval(
      () => void this.flushDue(),
      Math.max(10, Math.floor(this.options.flushIntervalMs / 4)),
    );
  }

  /** A new assignment: forget partitions we lost, and learn the written-ahead ranges of the ones we have. */
  onAssignment(assigned: Array<{ topic: string; partition: number }>): void {
    const keep = new Set(assigned.map((a) => key(a.topic, a.partition)));
    for (const k of this.buffers.keys()) if (!keep.has(k)) this.buffers.delete(k);
    this.ready = this.batches.latest(this.options.groupId).then((latest) => {
      this.pendingReplays.clear();
      for (const b of latest) this.pendingReplays.set(key(b.topic, b.partition), b);
    });
  }

  async handle(batch: ConsumedBatch): Promise<void> {
    await this.ready;
    const stream = this.byTopic.get(batch.topic);
    if (!stream) throw new Error(`no projection for topic ${batch.topic}`);
    const k = key(batch.topic, batch.partition);
    await stream.codec.prepare(batch.messages.map((m) => m.value));
    await this.lock.run(k, async () => {
      const buffer = this.bufferFor(k, batch.topic, batch.partition);
      const now = Date.now();
      for (const message of batch.messages) {
        const offset = BigInt(message.offset);
        if (buffer.nextOffset !== undefined && offset < buffer.nextOffset) continue;
        if (buffer.replay && offset > buffer.replay.last && buffer.firstOffset !== undefined) {
          // The range's tail was compacted away: what is left of it is still that range.
          await this.flush(buffer, stream);
        }
        this.add(buffer, stream, message, batch.partition, now);
        if (buffer.replay && offset === buffer.replay.last) await this.flush(buffer, stream);
        else if (!buffer.replay && buffer.rows.length + buffer.dead.length >= this.options.maxBatchRecords) {
          await this.flush(buffer, stream);
        }
        await batch.heartbeat();
      }
      if (
        !buffer.replay &&
        buffer.firstOffset !== undefined &&
        now - buffer.openedAt >= this.options.flushIntervalMs
      ) {
        await this.flush(buffer, stream);
      }
    });
  }

  /** Inserts and commits everything buffered (graceful shutdown). */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      [...this.buffers].map(([k, buffer]) =>
        this.lock.run(k, async () => {
          // A half-repeated range cannot be flushed under its token; it is repeated on the next start.
          if (buffer.firstOffset !== undefined && !buffer.replay)
            await this.flush(buffer, this.byTopic.get(buffer.topic)!);
        }),
      ),
    );
  }

  private bufferFor(k: string, topic: string, partition: number): PartitionBuffer<unknown> {
    let buffer = this.buffers.get(k);
    if (!buffer) {
      buffer = {
        topic,
        partition,
        rows: [],
        dead: [],
        firstOffset: undefined,
        lastOffset: undefined,
        openedAt: 0,
        replay: undefined,
        nextOffset: undefined,
        failures: 0,
        retryAt: 0,
      };
      const pending = this.pendingReplays.get(k);
      if (pending) buffer.replay = { first: BigInt(pending.firstOffset), last: BigInt(pending.lastOffset) };
      this.buffers.set(k, buffer);
    }
    return buffer;
  }

  private add(
    buffer: PartitionBuffer<unknown>,
    stream: StreamProjection<unknown>,
    message: KafkaMessage,
    partition: number,
    now: number,
  ): void {
    const offset = BigInt(message.offset);
    if (buffer.replay && offset > buffer.replay.last) buffer.replay = undefined; // that range was committed
    if (buffer.firstOffset === undefined) {
      buffer.firstOffset = offset;
      buffer.openedAt = now;
    }
    buffer.lastOffset = offset;
    buffer.nextOffset = offset + 1n;
    const decoded = stream.codec.decode(message.value);
    const reason = decoded.ok ? stream.validate(decoded.value, now) : decoded.reason;
    if (decoded.ok && reason === undefined) {
      buffer.rows.push(decoded.value);
      return;
    }
    buffer.dead.push({
      sourceTopic: stream.topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      reason: reason ?? 'invalid record',
      component: 'ingest',
    });
  }

  /** Partitions whose last flush failed, for /health. */
  failing(): Array<{ topic: string; partition: number; failures: number }> {
    return [...this.buffers.values()]
      .filter((b) => b.failures > 0)
      .map((b) => ({ topic: b.topic, partition: b.partition, failures: b.failures }));
  }

  private async flush(buffer: PartitionBuffer<unknown>, stream: StreamProjection<unknown>): Promise<void> {
    try {
      await this.write(buffer, stream);
      buffer.failures = 0;
    } catch (error) {
      buffer.failures++;
      buffer.retryAt = Date.now() + Math.min(30_000, 250 * 2 ** buffer.failures);
      // Nothing was committed: the buffer is kept and written again under the same range and token.
      this.logger.error(
        { err: error, topic: buffer.topic, partition: buffer.partition, failures: buffer.failures },
        'flush failed; retrying with backoff',
      );
      throw error;
    }
  }

  private async write(buffer: PartitionBuffer<unknown>, stream: StreamProjection<unknown>): Promise<void> {
    if (buffer.firstOffset === undefined || buffer.lastOffset === undefined) return;
    const first = buffer.replay ? buffer.replay.first : buffer.firstOffset;
    const last = buffer.replay ? buffer.replay.last : buffer.lastOffset;
    const table = stream.projection.table;
    const end = flushSeconds.startTimer({ table });
    const range: SinkBatch = {
      topic: buffer.topic,
      partition: buffer.partition,
      firstOffset: String(first),
      lastOffset: String(last),
      records: buffer.rows.length + buffer.dead.length,
    };
    if (!buffer.replay) await this.batches.record(this.options.groupId, range);
    await stream.projection.insert(
      buffer.rows,
      `${this.options.groupId}:${buffer.topic}:${buffer.partition}:${first}-${last}`,
    );
    this.options.afterInsert?.(++this.inserts);
    await this.deadLetters.publish(buffer.dead);
    await this.commit(buffer.topic, buffer.partition, String(last + 1n));
    end();
    projected.inc({ table }, buffer.rows.length);
    batchRows.observe({ table }, range.records);
    if (buffer.dead.length > 0) {
      deadLettered.inc({ topic: buffer.topic }, buffer.dead.length);
      this.logger.warn(
        {
          topic: buffer.topic,
          partition: buffer.partition,
          count: buffer.dead.length,
          firstReason: buffer.dead[0]?.reason,
        },
        'records dead-lettered',
      );
    }
    if (buffer.replay) {
      this.logger.info({ ...range }, 'repeated a written-ahead range after restart');
      this.pendingReplays.delete(key(buffer.topic, buffer.partition));
    }
    buffer.rows = [];
    buffer.dead = [];
    buffer.firstOffset = undefined;
    buffer.lastOffset = undefined;
    buffer.replay = undefined;
  }

  private async flushDue(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    for (const [k, buffer] of this.buffers) {
      if (
        buffer.firstOffset === undefined ||
        buffer.replay ||
        now < buffer.retryAt ||
        now - buffer.openedAt < this.options.flushIntervalMs
      ) {
        continue;
      }
      await this.lock
        .run(k, async () => {
          if (
            buffer.firstOffset !== undefined &&
            !buffer.replay &&
            Date.now() - buffer.openedAt >= this.options.flushIntervalMs
          ) {
            await this.flush(buffer, this.byTopic.get(buffer.topic)!);
          }
        })
        .catch(() => undefined); // logged by flush; retried after its backoff
    }
  }
}

function key(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}
