import { gauge, type Logger } from '@sentio/observability';
import type { Consumer, ConsumerRunConfig, Kafka, KafkaMessage } from 'kafkajs';
import { asRejoin, runSupervised, type Supervised } from './consumer-recovery.js';
import { beforeRejoin, commitAsMember, confirmMember, forgetMember } from './kafkajs-patches.js';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  highWatermark: string;
  /** Keeps the group membership alive during long work on this batch. */
  heartbeat(): Promise<void>;
}

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /** How long the broker may hold a fetch waiting for data: bounds latency at low rates. */
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
}

export type AssignmentListener = (assigned: Array<{ topic: string; partition: number }>) => void;

const lag = gauge(
  'sentio_kafka_consumer_lag_records',
  'Records behind the end of the partition after the last batch',
  ['group', 'topic', 'partition'],
);

/**
 * A consumer-group member that hands whole fetched batches to its handler and never commits by itself:
 * the owner of the data commits, through `commit`, once what it did with the records is durable. The fetch
 * position moves on as batches are handed over, so a handler that buffers keeps receiving.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private stopping = false;
  private unregister: (() => void) | undefined;
  /** The member id of the last join: whose membership `holdsAssignment` confirms. */
  private memberId: string | undefined;
  private supervised: Supervised | undefined;

  constructor(
    kafka: Kafka,
    private readonly options: BatchConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      maxWaitTimeInMs: options.maxWaitMs ?? 100,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      retry: { retries: 10, initialRetryTime: 200 },
    });
  }

  async start(
    handler: (batch: ConsumedBatch) => Promise<void>,
    onAssignment?: AssignmentListener,
    onRevoke?: (removed: boolean) => Promise<void>,
  ): Promise<void> {
    if (onRevoke) this.unregister = beforeRejoin(this.options.groupId, onRevoke);
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.memberId = payload.memberId;
      onAssignment?.(
        Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
          (partitions as number[]).map((partition) => ({ topic, partition })),
        ),
      );
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: this.options.topics,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    const run = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        // Records not handed over stay unresolved and uncommitted: the next owner reads them again.
        if (this.stopping || !isRunning() || isStale() || batch.messages.length === 0) return;
        try {
          await handler({
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages,
            highWatermark: batch.highWatermark,
            heartbeat,
          });
        } catch (error) {
          throw asRejoin(error);
        }
        const last = batch.lastOffset();
        resolveOffset(last);
        lag.set(
          { group: this.options.groupId, topic: batch.topic, partition: String(batch.partition) },
          Math.max(0, Number(batch.highWatermark) - Number(last) - 1),
        );
      },
    } satisfies ConsumerRunConfig;
    this.supervised = await runSupervised(this.consumer, run, {
      groupId: this.options.groupId,
      logger: this.logger,
      stopping: () => this.stopping,
    });
  }

  /** Set while KafkaJS has crashed the consumer and it waits to be started again. */
  get crashed(): string | undefined {
    return this.supervised?.down ? (this.supervised.lastCrash ?? 'crashed') : undefined;
  }

  /** Commits `nextOffset` (the offset of the next record to read) for one partition. */
  async commit(topic: string, partition: number, nextOffset: string): Promise<void> {
    await this.consumer.commitOffsets([{ topic, partition, offset: nextOffset }]);
  }

  /**
   * Commits like `commit`, but only as the holder of the partitions' current assignment: refused by the
   * coordinator once this member's generation is over, never skipped silently. For handlers that write
   * elsewhere first and commit after (ingest's sink), and retry a refused commit themselves.
   */
  async commitAssigned(topic: string, partition: number, nextOffset: string): Promise<void> {
    if (this.memberId === undefined) throw new Error(`not a member of group ${this.options.groupId} yet`);
    await commitAsMember(this.memberId, topic, partition, nextOffset);
  }

  /**
   * Whether this member still holds the partitions of its last assignment, asked of the group coordinator
   * (one round trip): false once the group dropped it (its session expired), whatever this process has
   * noticed so far. See `confirmMember`.
   */
  holdsAssignment(): Promise<boolean> {
    return this.memberId === undefined ? Promise.resolve(false) : confirmMember(this.memberId);
  }

  /** Stops handing out batches; the one being handled finishes. Commits are still possible until `stop`. */
  quiesce(): void {
    this.stopping = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unregister?.();
    if (this.memberId) forgetMember(this.memberId);
    await this.consumer.stop();
    await this.consumer.disconnect();
  }
}
