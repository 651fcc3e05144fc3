import { ensureTopics, runSupervised, type KafkaConfig } from '@sentio/kafka';
import type { HealthReport, Logger } from '@sentio/observability';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { ConnectorsGroupConfig } from '../connectors.config.js';
import { claimedSlots, stickySlotsAssigner } from './sticky-assigner.util.js';

/** Told the slots this process reads after each change; resolves once the change is applied. */
export type SlotsListener = (owned: ReadonlySet<number>) => Promise<void>;

/** The coordination topic of a connectors group: holds no records, its partitions are the slots. */
export function groupTopic(namespace: string, groupId: string): string {
  return `${namespace}.connectors.group.${groupId}`;
}

/**
 * Membership of a connectors group: a Kafka consumer group on a topic with one partition per slot, which
 * carries no records. The partitions assigned to this member are the slots whose devices it reads. Kafka
 * does the failure detection (a member silent for `sessionTimeoutMs` is dropped and its slots reassigned)
 * and the agreement (one assignment per generation, from the group leader).
 *
 * Three rules keep a device read by one live process at a time:
 * - slots lost in a new assignment are released (their readers stopped) before gained ones are started;
 * - the assignor is sticky, so a rebalance moves only the slots of a member that left (or, when one joins,
 *   the few that make its share), never swapping devices between live members;
 * - a member that has not heard from the coordinator for a session timeout (its process stalled, or cut off
 *   from Kafka) releases everything: by then the group has handed its slots to someone else.
 */
export class ConnectorsGroup {
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private owned = new Set<number>();
  private applying: Promise<void> = Promise.resolve();
  private lastContactAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private memberId: string | undefined;
  private leader = false;
  private assignments = 0;
  private fenced = false;
  private stopped = false;
  private readonly topic: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly kafkaConfig: KafkaConfig,
    private readonly config: ConnectorsGroupConfig,
    private readonly logger: Logger,
  ) {
    this.topic = groupTopic(kafkaConfig.namespace, config.id);
  }

  get slots(): number {
    return this.config.slots;
  }

  /**
   * Whether this member's hold on its slots is certain: it heard from the coordinator (a heartbeat answer or
   * an assignment) less than a session timeout ago, less one heartbeat interval, since the coordinator
   * counts the timeout from when it received the heartbeat, a little before the answer got here.
   */
  inContact(): boolean {
    return !this.fenced && Date.now() - this.lastContactAt < this.config.sessionTimeoutMs - this.heartbeatMs;
  }

  private get heartbeatMs(): number {
    return Math.max(500, Math.floor(this.config.sessionTimeoutMs / 6));
  }

  async start(onChange: SlotsListener): Promise<void> {
    await ensureTopics(
      this.kafka,
      [
        {
          name: this.topic,
          partitions: this.config.slots,
          replicationFactor: this.kafkaConfig.replicationFactor,
          cleanupPolicy: 'delete',
          retentionMs: 3600_000,
        },
      ],
      this.logger,
    );
    const apply = (next: Set<number>, why: string) => {
      this.applying = this.applying.then(async () => {
        const lost = [...this.owned].filter((s) => !next.has(s));
        const gained = [...next].filter((s) => !this.owned.has(s));
        if (lost.length === 0 && gained.length === 0) return;
        // Release first: what this member stops reading is stopped before anything new starts.
        const kept = new Set([...this.owned].filter((s) => next.has(s)));
        await onChange(kept);
        this.owned = kept;
        // A slot another live member held until this rebalance is being released by it right now (a Modbus
        // read in flight finishes first): started after the hand-over time. A dead member's, at once.
        const releasing = await this.heldByOthers(gained);
        const orphans = gained.filter((s) => !releasing.has(s));
        this.owned = new Set([...kept, ...orphans]);
        await onChange(this.owned);
        if (releasing.size > 0) {
          const generation = this.assignments;
          await new Promise((r) => setTimeout(r, this.config.handoverMs));
          // A newer assignment is applied after this one and decides about these slots itself.
          if (generation === this.assignments && !this.fenced && !this.stopped) {
            this.owned = new Set(next);
            await onChange(this.owned);
          }
        }
        this.logger.info(
          {
            group: this.config.id,
            why,
            lost,
            gained,
            handedOver: [...releasing],
            owned: [...this.owned].sort((a, b) => a - b),
          },
          'connectors group assignment applied',
        );
      });
      // One failed change (a device whose first events Kafka refused) must not stop the ones after it.
      this.applying = this.applying.catch((error: unknown) =>
        this.logger.error({ err: error, group: this.config.id, why }, 'connectors group assignment failed'),
      );
      return this.applying;
    };
    const consumer = this.kafka.consumer({
      groupId: this.config.id,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: this.heartbeatMs,
      // The topic holds nothing: the fetch loop is only the heartbeat's clock.
      maxWaitTimeInMs: 500,
      partitionAssigners: [stickySlotsAssigner(() => [...this.owned])],
      retry: { retries: 20, initialRetryTime: 200 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.HEARTBEAT, () => {
      this.lastContactAt = Date.now();
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.lastContactAt = Date.now();
      this.fenced = false;
      this.memberId = payload.memberId;
      this.leader = payload.isLeader;
      this.assignments++;
      void apply(new Set(payload.memberAssignment[this.topic] ?? []), 'rebalance');
    });
    this.watchdog = setInterval(() => {
      if (this.stopped || this.fenced || this.owned.size === 0) return;
      if (Date.now() - this.lastContactAt <= this.config.sessionTimeoutMs) return;
      // The coordinator has dropped us by now and reassigned our slots: stop reading them.
      this.fenced = true;
      this.logger.warn(
        { group: this.config.id, silentMs: Date.now() - this.lastContactAt },
        'no contact with the group coordinator for a session timeout: releasing every device',
      );
      void apply(new Set(), 'fenced');
    }, 500);
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    // A crashed member's devices are released by the watchdog after a session timeout without contact.
    await runSupervised(
      consumer,
      { autoCommit: false, eachBatch: async () => undefined },
      { groupId: this.config.id, logger: this.logger, stopping: () => this.stopped },
    );
  }

  /** Leaves the group (its slots go to the others at once) after `release` stopped every reader. */
  async stop(release: SlotsListener): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    await this.applying;
    await release(new Set());
    this.owned = new Set();
    await this.consumer?.disconnect();
    await this.admin?.disconnect();
  }

  /**
   * Which of these slots another current member held before this rebalance: the group's members with the
   * slots they claimed when they joined. Unknown (the broker did not answer) counts as held: a later start
   * is safe, a double read is not.
   */
  private async heldByOthers(slots: number[]): Promise<Set<number>> {
    if (slots.length === 0) return new Set();
    try {
      const { groups } = await this.admin!.describeGroups([this.config.id]);
      const held = new Set(
        (groups[0]?.members ?? [])
          .filter((m) => m.memberId !== this.memberId)
          .flatMap((m) => claimedSlots(m.memberMetadata)),
      );
      return new Set(slots.filter((s) => held.has(s)));
    } catch (error) {
      this.logger.warn(
        { err: error, group: this.config.id },
        'cannot describe the group: waiting out hand-over',
      );
      return new Set(slots);
    }
  }

  health(): HealthReport {
    const joined = this.memberId !== undefined && !this.fenced;
    return {
      state: joined ? 'up' : 'degraded',
      detail: {
        group: this.config.id,
        topic: this.topic,
        memberId: this.memberId ?? null,
        leader: this.leader,
        assignments: this.assignments,
        contactAgeMs: this.lastContactAt > 0 ? Date.now() - this.lastContactAt : null,
        slots: [...this.owned].sort((a, b) => a - b),
        ...(!joined && { reason: this.fenced ? 'lost contact with the group' : 'not joined yet' }),
      },
    };
  }
}
