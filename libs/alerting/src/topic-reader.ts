import { randomBytes } from 'node:crypto';
import { runSupervised } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';

/** A topic just created may not have a leader yet: wait that out (briefly) instead of failing the start. */
async function fetchOffsets(
  admin: Admin,
  topic: string,
): Promise<Array<{ partition: number; high: string; low: string }>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const e = error as Error & { retriable?: boolean };
      if (attempt >= 40 || !(e.retriable || /does not host|leader|unknown topic/i.test(e.message)))
        throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Reads whole topics from the beginning and keeps following them, with no committed offsets (a group of
 * its own per process): for compacted topics that every process needs entirely (rules, silences, the
 * notification log) and for the history the dispatcher rebuilds its alerts from. `caughtUp` resolves once
 * every partition has been read up to where it ended when reading began.
 */
export class TopicReader {
  private readonly consumer: Consumer;
  private readonly groupId: string;
  private resolveCaughtUp!: () => void;
  readonly caughtUp: Promise<void>;
  private remaining = new Map<string, bigint>();
  /** Next offset to read per `topic:partition`, as far as batches have ended. */
  private readonly position = new Map<string, bigint>();
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: string[],
    private readonly handler: (
      topic: string,
      partition: number,
      message: KafkaMessage,
    ) => void | Promise<void>,
    private readonly logger: Logger,
    name: string,
    /** Only these partitions count for `caughtUp` (others are still read; the handler sees them). */
    private readonly only?: ReadonlySet<number>,
  ) {
    this.groupId = `${name}-reader-${randomBytes(6).toString('hex')}`;
    this.consumer = kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: 100,
      // Short, because a reader whose consumer crashed (a broker died) rejoins under a new member id and the
      // coordinator holds the join until the old id's session expires: with 30 s the dispatcher, which waits
      // for its readers before it routes, stayed silent for 29 s after a broker's death on the cluster. A
      // group of one member loses nothing to a spurious expiry but a rejoin.
      sessionTimeout: 10_000,
    });
    this.caughtUp = new Promise((resolve) => (this.resolveCaughtUp = resolve));
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of this.topics) {
        for (const p of await fetchOffsets(admin, topic)) {
          if (this.only && !this.only.has(p.partition)) continue;
          if (BigInt(p.high) > BigInt(p.low)) this.remaining.set(`${topic}:${p.partition}`, BigInt(p.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    if (this.remaining.size === 0) this.resolveCaughtUp();
    // Batch ends (data, or only transaction markers) say how far each partition has been read.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const key = `${payload.topic}:${payload.partition}`;
      this.position.set(key, BigInt(payload.lastOffset) + 1n);
      const end = this.remaining.get(key);
      if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) {
        this.remaining.delete(key);
        if (this.remaining.size === 0) this.resolveCaughtUp();
      }
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    // It commits nothing: started again after a crash, it goes on from where its batches ended.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      for (const [key, offset] of this.position) {
        const at = key.lastIndexOf(':');
        this.consumer.seek({
          topic: key.slice(0, at),
          partition: Number(key.slice(at + 1)),
          offset: String(offset),
        });
      }
    });
    await runSupervised(
      this.consumer,
      {
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          for (const message of batch.messages) {
            await this.handler(batch.topic, batch.partition, message);
            resolveOffset(message.offset);
          }
          await heartbeat();
        },
      },
      { groupId: this.groupId, logger: this.logger, stopping: () => this.stopped },
    );
  }

  /** Resolves once everything written to the topics before this call has been read (and handled). */
  async sync(timeoutMs = 60_000): Promise<void> {
    await this.caughtUp;
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = new Map<string, bigint>();
    try {
      for (const topic of this.topics)
        for (const p of await fetchOffsets(admin, topic))
          if (BigInt(p.high) > BigInt(p.low)) ends.set(`${topic}:${p.partition}`, BigInt(p.high));
    } finally {
      await admin.disconnect();
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ([...ends].every(([key, end]) => (this.position.get(key) ?? 0n) >= end)) return;
      if (Date.now() > deadline) throw new Error(`${this.topics.join(', ')} not read to the end in time`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect().catch(() => undefined);
  }
}
