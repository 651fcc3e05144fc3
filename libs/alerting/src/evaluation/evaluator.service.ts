import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type AlertEvent } from '@sentio/events';
import {
  EVENT_TOPICS,
  KAFKA,
  KAFKA_CONFIG,
  LOGGER,
  asRejoin,
  ensureTopics,
  runSupervised,
  type EventTopics,
  type KafkaConfig,
  type Supervised,
} from '@sentio/kafka';
import { counter, gauge, HealthRegistry, histogram, type Logger } from '@sentio/observability';
import type { Consumer, ConsumerRunConfig, EachBatchPayload, Kafka, Message, Producer } from 'kafkajs';
import type { AlertingConfig } from '../alerting.config.js';
import { ALERTING_CONFIG } from '../alerting.tokens.js';
import { alertingTopics, alertingTopicSpecs } from '../alerting-topics.js';
import { AlertRulesService } from '../rules/alert-rules.service.js';
import { TopicReader } from '../topic-reader.js';
import { AlertEngine, type AlertTransition, type InstanceSnapshot } from './alert-engine.js';
import { transitionEvent } from './alert-event.util.js';
import { coPartitionedAssigner } from './co-partitioned.assigner.js';
import type { EngineInput } from './engine-input.type.js';
import { anomalyInput, deviceInput, forecastInput, logInput, sampleInput } from './engine-input.util.js';

const evaluated = counter('sentio_alerting_inputs_total', 'Events evaluated by the alerting rules', [
  'topic',
]);
const transitions = counter('sentio_alerting_transitions_total', 'Alert state transitions produced', [
  'status',
]);
const commitSeconds = histogram(
  'sentio_alerting_commit_seconds',
  'One transaction of transitions, state and offsets',
);
const instancesGauge = gauge('sentio_alerting_instances', 'Rule x device instances held in memory');

const PIECE_BYTES = 512 * 1024;

function* pieces(messages: Message[]): Generator<Message[]> {
  let piece: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size =
      64 +
      (m.key ? Buffer.byteLength(m.key as string | Buffer) : 0) +
      (m.value ? Buffer.byteLength(m.value as string | Buffer) : 0);
    if (piece.length > 0 && bytes + size > PIECE_BYTES) {
      yield piece;
      piece = [];
      bytes = 0;
    }
    piece.push(m);
    bytes += size;
  }
  if (piece.length > 0) yield piece;
}

interface PartitionState {
  partition: number;
  engine: AlertEngine;
  /** Transactional producer of this partition alone (`<group>-p<N>`): taking it over fences the old owner. */
  producer: Producer;
  pendingAlerts: Message[];
  /** Next offset per input topic: how far the engine has read, committed with the next transaction. */
  positions: Map<string, string>;
  offsetsDirty: boolean;
  /** This partition's transactions, one at a time, in order. */
  committing: Promise<void>;
  /** Wall time of the last input, and of the last idle advance. */
  lastInputAt: number;
  lastAdvanceAt: number;
}

function isRetriable(error: unknown): boolean {
  const e = error as { retriable?: boolean; type?: string; originalError?: unknown } | undefined;
  if (!e) return false;
  if (e.retriable === true || e.type === 'CONCURRENT_TRANSACTIONS') return true;
  return e.originalError !== undefined && isRetriable(e.originalError);
}

/**
 * Claims the producer's transactional id before anything committed is read. KafkaJS 2.2.4's `connect()`
 * asks only for a plain idempotent producer id: the transactional one (InitProducerId with the id, which
 * bumps its epoch, aborts the previous owner's open transaction and waits for one it had already committed
 * to finish) is requested on the first `transaction()`. Without this the takeover read the state and offsets
 * first, while the previous owner could still commit (a revoked member mid-transaction, or a commit whose
 * markers were still being written after a broker's death): both then emitted the same transition, and
 * `alerting-scale` found one committed twice. An empty transaction sends nothing else and is ended locally.
 */
async function fence(producer: Producer): Promise<void> {
  const tx = await producer.transaction();
  await tx.abort();
}

/** The broker refused a transaction because another producer took over the transactional id. */
function isFenced(error: unknown): boolean {
  const e = error as { type?: string; message?: string; originalError?: unknown } | undefined;
  if (!e) return false;
  if (e.type === 'PRODUCER_FENCED' || e.type === 'INVALID_PRODUCER_EPOCH') return true;
  if (/fenced|producer epoch/i.test(e.message ?? '')) return true;
  return e.originalError !== undefined && isFenced(e.originalError);
}

/**
 * Streaming evaluation: consumes the device streams in a consumer group (co-partitioned by device), runs
 * each partition's AlertEngine in event time, and commits, in one Kafka transaction per input partition, the
 * transitions (to the alerts topic), the changed per-(rule, device) state (to the compacted state topic,
 * same partition number) and the input offsets. A crash anywhere aborts the open transaction: the restart
 * restores the committed state and re-reads from the committed offsets, so every transition is on the topic
 * exactly once, and a restored pending or firing alert continues without a new transition (hence without a
 * new notification).
 *
 * Several processes share the partitions through the consumer group. Each partition has its own
 * transactional id, so the member that receives a partition first fences its previous owner (the broker
 * aborts that owner's open transaction and refuses its later commits), then reads the partition's committed
 * state and offsets, and only then consumes it: a partition's pending and firing alerts move with it, with
 * no transition lost or repeated. (KafkaJS predates KIP-447's group-generation fencing; a transactional id
 * per input partition is the older scheme that gives the same guarantee.)
 */
@Injectable()
export class EvaluatorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly partitions = new Map<number, PartitionState>();
  /** Partitions of the current group generation (being restored, or running). */
  private assigned = new Set<number>();
  private acquiring: Promise<void> = Promise.resolve();
  private consumer: Consumer | undefined;
  private supervised: Supervised | undefined;
  private lifecycle: TopicReader | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private alertCodec: EventCodec<AlertEvent> | undefined;
  private inputs: string[] = [];
  private dispatchListener: ((leader: boolean, reason: string) => void) | undefined;
  private readonly internal: ReturnType<typeof alertingTopics>;

  constructor(
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(AlertRulesService) private readonly rules: AlertRulesService,
  ) {
    this.logger = logger.child({ component: 'alerting-evaluator' });
    this.internal = alertingTopics(kafkaConfig.namespace);
  }

  async onApplicationBootstrap(): Promise<void> {
    await ensureTopics(
      this.kafka,
      alertingTopicSpecs(
        this.kafkaConfig.namespace,
        this.kafkaConfig.partitions,
        this.kafkaConfig.replicationFactor,
      ),
      this.logger,
    );
    await this.rules.start();
    if (this.config.rulesPath) await this.rules.provision(this.config.rulesPath);
    const codecs = {
      telemetry: await EventCodec.register(this.serde, eventStreams.telemetry, this.topics.telemetry),
      anomalies: await EventCodec.register(this.serde, eventStreams.anomalies, this.topics.anomalies),
      forecasts: await EventCodec.register(this.serde, eventStreams.forecasts, this.topics.forecasts),
      logs: await EventCodec.register(this.serde, eventStreams.logs, this.topics.logs),
      lifecycle: await EventCodec.register(this.serde, eventStreams.lifecycle, this.topics.lifecycle),
    };
    this.alertCodec = await EventCodec.register(this.serde, eventStreams.alerts, this.topics.alerts);
    // The inventory is needed whole by every member (selectors by type, site, labels): read, then followed.
    this.lifecycle = new TopicReader(
      this.kafka,
      [this.topics.lifecycle],
      async (_t, _p, message) => {
        await codecs.lifecycle.prepare([message.value]);
        const decoded = codecs.lifecycle.decode(message.value);
        if (decoded.ok) {
          const input = deviceInput(decoded.value);
          if (input.type === 'device') {
            if (input.removed) this.rules.ruleSet.devices.delete(input.deviceId);
            else
              this.rules.ruleSet.devices.set(input.deviceId, {
                deviceType: input.deviceType,
                labels: input.labels,
              });
          }
        }
      },
      this.logger,
      `${this.config.groupId}-lifecycle`,
    );
    await this.lifecycle.start();
    await this.lifecycle.caughtUp;

    const decoders: Record<string, (value: Buffer | null) => EngineInput | undefined> = {
      [this.topics.telemetry]: (v) => {
        const d = codecs.telemetry.decode(v);
        return d.ok ? sampleInput(d.value) : undefined;
      },
      [this.topics.anomalies]: (v) => {
        const d = codecs.anomalies.decode(v);
        return d.ok ? anomalyInput(d.value) : undefined;
      },
      [this.topics.forecasts]: (v) => {
        const d = codecs.forecasts.decode(v);
        return d.ok ? forecastInput(d.value) : undefined;
      },
      [this.topics.logs]: (v) => {
        const d = codecs.logs.decode(v);
        return d.ok ? logInput(d.value) : undefined;
      },
    };
    this.inputs = [this.topics.telemetry, this.topics.anomalies, this.topics.forecasts, this.topics.logs];
    const consumer = this.kafka.consumer({
      groupId: this.config.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: this.kafkaConfig.consumer.sessionTimeoutMs,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    // A crashed consumer comes back as a new member: whatever it owns then is restored from the committed
    // state, as after any hand-over, not continued from engines that missed the generations in between.
    consumer.on(consumer.events.CRASH, () => {
      this.assigned = new Set();
      for (const state of [...this.partitions.values()]) this.release(state, 'consumer crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.inputs, fromBeginning: true });
    const run = {
      autoCommit: false,
      // Offsets move only when a batch was evaluated: a batch of a partition still being restored is
      // fetched again once the partition resumes.
      eachBatchAutoResolve: false,
      eachBatch: async (payload: EachBatchPayload) => {
        try {
          await this.evaluate(payload, decoders, (values) => codecs.telemetry.prepare(values));
        } catch (error) {
          throw asRejoin(error);
        }
      },
    } satisfies ConsumerRunConfig;
    this.supervised = await runSupervised(consumer, run, {
      groupId: this.config.groupId,
      logger: this.logger,
      stopping: () => this.stopped,
    });
    this.timer = setInterval(() => void this.tick(), Math.min(this.config.commitIntervalMs, 500));
    this.health.register('alerting-evaluator', () => ({
      state: this.supervised?.down ? 'down' : 'up',
      detail: {
        groupId: this.config.groupId,
        ...(this.supervised?.down ? { consumerCrashed: this.supervised.lastCrash } : {}),
        rules: this.rules.ruleSet.rules.size,
        assigned: [...this.assigned].sort((a, b) => a - b),
        partitions: [...this.partitions.keys()].sort((a, b) => a - b),
        instances: [...this.partitions.values()].reduce((n, p) => n + p.engine.size, 0),
      },
    }));
    this.logger.info(
      { groupId: this.config.groupId, rules: this.rules.ruleSet.rules.size },
      'alerting evaluating',
    );
  }

  private async evaluate(
    { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload,
    decoders: Record<string, (value: Buffer | null) => EngineInput | undefined>,
    prepare: (values: Array<Buffer | null>) => Promise<void>,
  ): Promise<void> {
    if (this.stopped || !isRunning() || isStale()) return;
    const state = this.partitions.get(batch.partition);
    if (!state) return;
    const decode = decoders[batch.topic]!;
    await prepare(batch.messages.map((m) => m.value));
    if (this.partitions.get(batch.partition) !== state) return;
    for (const message of batch.messages) {
      const input = decode(message.value);
      // Undecodable inputs are the projections' business (ingest dead-letters them); alerting skips them.
      if (!input) continue;
      this.emit(state, state.engine.process(input));
    }
    state.lastInputAt = Date.now();
    evaluated.inc({ topic: batch.topic }, batch.messages.length);
    const last = batch.lastOffset();
    state.positions.set(batch.topic, (BigInt(last) + 1n).toString());
    state.offsetsDirty = true;
    resolveOffset(last);
    // Back-pressure: a slow broker makes the consumer wait instead of piling up transitions.
    if (state.pendingAlerts.length > 20_000) await this.commitPartition(state);
    await heartbeat();
  }

  /**
   * The member evaluating partition 0 is the one that dispatches notifications (see DispatchLeadership):
   * told now, and on every change (after the partition is restored, and as soon as it is released).
   */
  onDispatchLeadership(listener: (leader: boolean, reason: string) => void): void {
    this.dispatchListener = listener;
    if (this.partitions.has(0)) listener(true, 'evaluates partition 0');
  }

  /** Current alerts of this process's partitions (pending, firing, no data, error). */
  active(): InstanceSnapshot[] {
    return [...this.partitions.values()].flatMap((p) => p.engine.active());
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.consumer?.stop().catch(() => undefined);
    await this.commit().catch((error: unknown) => this.logger.error({ err: error }, 'final commit failed'));
    await this.consumer?.disconnect().catch(() => undefined);
    for (const state of this.partitions.values()) await state.producer.disconnect().catch(() => undefined);
    await this.lifecycle?.stop();
  }

  /**
   * A new group generation (called synchronously by KafkaJS, before it fetches). Revoked partitions are
   * dropped with whatever they had not committed (their new owner re-reads it from the committed offsets).
   * Kept partitions continue from where their engine is, not from the committed offsets KafkaJS would
   * resume from. New partitions stay paused until restored.
   */
  private onAssignment(memberAssignment: Record<string, number[]>): void {
    const consumer = this.consumer!;
    const owned = new Set(Object.values(memberAssignment).flat());
    this.assigned = owned;
    for (const [p, state] of this.partitions) if (!owned.has(p)) this.release(state, 'revoked');
    for (const state of this.partitions.values())
      for (const [topic, offset] of state.positions)
        consumer.seek({ topic, partition: state.partition, offset });
    const fresh = [...owned].filter((p) => !this.partitions.has(p));
    this.logger.info(
      { assigned: [...owned].sort((a, b) => a - b), restoring: fresh },
      'alerting partitions assigned',
    );
    if (fresh.length === 0) return;
    this.restore(fresh);
  }

  /** Pauses the partitions and takes them over from their committed state (see `acquire`). */
  private restore(partitions: number[]): void {
    this.consumer!.pause(this.inputs.map((topic) => ({ topic, partitions })));
    this.acquiring = this.acquiring
      .then(() => this.acquireRetrying())
      .catch((error: unknown) => {
        // Paused partitions nobody evaluates: only a restart (and a new generation) is consistent again.
        this.logger.fatal({ err: error }, 'alerting partitions could not be restored; exiting');
        process.exit(70);
      });
  }

  /** Drops a partition this process no longer owns (or was fenced out of). */
  private release(state: PartitionState, reason: string): void {
    if (this.partitions.get(state.partition) !== state) return;
    this.partitions.delete(state.partition);
    if (state.partition === 0) this.dispatchListener?.(false, `partition 0 ${reason}`);
    for (const snapshot of state.engine.active())
      if (snapshot.alert.status === 'firing')
        this.rules.ruleSet.firing.get(snapshot.ruleId)?.delete(snapshot.deviceId);
    this.logger.info(
      { partition: state.partition, reason, dropped: state.pendingAlerts.length },
      'alerting partition released',
    );
    void state.committing.finally(() => state.producer.disconnect().catch(() => undefined));
  }

  /**
   * A broker that died or is failing over refuses connections and transactions for a while (seconds, on the
   * three-broker cluster): the take-over is tried again for about a minute and a half before the process
   * gives up and exits.
   */
  private async acquireRetrying(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.acquire();
      } catch (error) {
        if (this.stopped || attempt >= 12) throw error;
        this.logger.warn({ err: error, attempt }, 'alerting partitions not restored yet; trying again');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 250 * 2 ** attempt)));
      }
    }
  }

  /**
   * Takes over the assigned partitions that are not running yet: fence (the previous owner's open
   * transaction is aborted, its later commits refused), then read the committed state and offsets, which
   * nobody can change any more, then resume consumption from exactly there.
   */
  private async acquire(): Promise<void> {
    const wanted = [...this.assigned].filter((p) => !this.partitions.has(p));
    if (wanted.length === 0 || this.stopped) return;
    const started = Date.now();
    const producers = new Map<number, Producer>();
    try {
      return await this.takeOver(wanted, producers, started);
    } catch (error) {
      // Nothing was taken over: the next attempt fences again with producers of its own.
      await Promise.all([...producers.values()].map((p) => p.disconnect().catch(() => undefined)));
      throw error;
    }
  }

  private async takeOver(wanted: number[], producers: Map<number, Producer>, started: number): Promise<void> {
    await Promise.all(
      wanted.map(async (p) => {
        const producer = this.kafka.producer({
          transactionalId: `${this.config.groupId}-p${p}`,
          idempotent: true,
          maxInFlightRequests: 1,
          // A commit under a slow broker can take long; the broker would abort a transaction older than this
          // (KafkaJS' default, 60 s, was hit on a loaded machine). Bounded by transaction.max.timeout.ms.
          transactionTimeout: 300_000,
        });
        await producer.connect();
        producers.set(p, producer);
        await fence(producer);
      }),
    );
    const snapshots = await this.readState(new Set(wanted));
    const admin = this.kafka.admin();
    await admin.connect();
    const starts = new Map<string, string>();
    try {
      const committed = await admin.fetchOffsets({ groupId: this.config.groupId, topics: this.inputs });
      for (const topic of this.inputs) {
        const low = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low]));
        const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
        for (const p of wanted) {
          const offset = done.find((c) => c.partition === p)?.offset ?? '-1';
          starts.set(`${topic}:${p}`, BigInt(offset) >= 0n ? offset : (low.get(p) ?? '0'));
        }
      }
    } finally {
      await admin.disconnect();
    }
    const resumed: number[] = [];
    for (const p of wanted) {
      const producer = producers.get(p)!;
      if (!this.assigned.has(p) || this.partitions.has(p) || this.stopped) {
        await producer.disconnect().catch(() => undefined);
        continue;
      }
      const engine = new AlertEngine(this.rules.ruleSet, {
        allowedLatenessMs: this.config.allowedLatenessMs,
      });
      for (const snapshot of snapshots.get(p)?.values() ?? []) engine.restore(snapshot);
      const positions = new Map<string, string>();
      for (const topic of this.inputs) {
        const offset = starts.get(`${topic}:${p}`)!;
        positions.set(topic, offset);
        this.consumer!.seek({ topic, partition: p, offset });
      }
      const now = Date.now();
      this.partitions.set(p, {
        partition: p,
        engine,
        producer,
        pendingAlerts: [],
        positions,
        offsetsDirty: false,
        committing: Promise.resolve(),
        lastInputAt: now,
        lastAdvanceAt: now,
      });
      resumed.push(p);
    }
    if (resumed.length > 0)
      this.consumer!.resume(this.inputs.map((topic) => ({ topic, partitions: resumed })));
    if (resumed.includes(0)) this.dispatchListener?.(true, 'evaluates partition 0');
    this.logger.info(
      {
        partitions: resumed,
        restored: resumed.map((p) => this.partitions.get(p)?.engine.size ?? 0),
        ms: Date.now() - started,
      },
      'partition state restored',
    );
  }

  /** The committed state of some partitions (key -> snapshot), read to the end of each. */
  private async readState(wanted: ReadonlySet<number>): Promise<Map<number, Map<string, InstanceSnapshot>>> {
    const restored = new Map<number, Map<string, InstanceSnapshot>>();
    const reader = new TopicReader(
      this.kafka,
      [this.internal.state],
      (_t, partition, message) => {
        if (!wanted.has(partition)) return;
        const key = message.key?.toString() ?? '';
        let map = restored.get(partition);
        if (!map) restored.set(partition, (map = new Map()));
        if (message.value === null || message.value.length === 0) map.delete(key);
        else map.set(key, JSON.parse(message.value.toString()) as InstanceSnapshot);
      },
      this.logger,
      `${this.config.groupId}-state`,
      wanted,
    );
    await reader.start();
    await reader.caughtUp;
    await reader.stop();
    return restored;
  }

  private emit(state: PartitionState, out: AlertTransition[]): void {
    for (const t of out) {
      transitions.inc({ status: t.status });
      const event = transitionEvent(t);
      // On the input's partition, as the state records: a transaction's send then goes to one broker.
      // KafkaJS 2.2.4 re-sends a request spanning several brokers under new sequence numbers when one of
      // them dies (README, "Limits"), and inside a transaction both copies commit: an alert transition
      // was committed twice on the three-broker cluster. An alert's events all come from one input
      // partition (co-partitioned by device), so they stay in order.
      state.pendingAlerts.push({
        key: eventStreams.alerts.key(event),
        value: this.alertCodec!.encode(event),
        partition: state.partition,
      });
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    for (const state of this.partitions.values()) {
      const { engine } = state;
      // Event time moves with the data; a partition silent for idleAdvanceMs moves on with the wall clock,
      // so no-data and keep_firing_for decide even when nothing arrives.
      const idle = now - state.lastInputAt >= this.config.idleAdvanceMs;
      const target =
        idle && engine.watermark > 0 ? engine.watermark + (now - state.lastAdvanceAt) : engine.watermark;
      state.lastAdvanceAt = now;
      if (target > 0) this.emit(state, engine.advance(target));
    }
    instancesGauge.set([...this.partitions.values()].reduce((n, p) => n + p.engine.size, 0));
    await this.commit();
  }

  /** Every partition's transaction (concurrently: each has its own producer). */
  async commit(): Promise<void> {
    await Promise.all([...this.partitions.values()].map((s) => this.commitPartition(s)));
  }

  /** One transaction of one partition: its transitions, changed state, offsets. */
  private commitPartition(state: PartitionState): Promise<void> {
    state.committing = state.committing
      .then(() => this.commitNow(state))
      .catch((error: unknown) => {
        if (this.partitions.get(state.partition) !== state) return;
        if (isFenced(error)) {
          // Another member owns this partition now and has restored it from what was committed.
          this.release(state, 'fenced');
          return;
        }
        // The in-memory state is now ahead of what is committed, and a failed commit's outcome is known
        // only to the transaction coordinator: take the partition over again as a new owner would (its
        // transactional id completes whatever is open), from what was committed.
        this.logger.error(
          { err: error, partition: state.partition },
          'alerting transaction failed; restoring the partition from its committed state',
        );
        this.release(state, 'transaction failed');
        if (this.assigned.has(state.partition) && !this.stopped) this.restore([state.partition]);
      });
    return state.committing;
  }

  private async commitNow(state: PartitionState): Promise<void> {
    if (this.partitions.get(state.partition) !== state) return;
    const alerts = state.pendingAlerts;
    const stateMessages: Message[] = [];
    for (const [key, snapshot] of state.engine.takeDirty()) {
      stateMessages.push({
        key,
        value: snapshot ? JSON.stringify(snapshot) : null,
        partition: state.partition,
      });
    }
    if (alerts.length === 0 && !state.offsetsDirty && stateMessages.length === 0) return;
    state.pendingAlerts = [];
    state.offsetsDirty = false;
    const offsets = [...state.positions].map(([topic, offset]) => ({
      topic,
      partitions: [{ partition: state.partition, offset }],
    }));
    const end = commitSeconds.startTimer();
    try {
      for (let attempt = 1; ; attempt++) {
        const tx = await state.producer.transaction();
        try {
          // In request-sized pieces: one partition's batch must stay under the broker's message.max.bytes.
          for (const piece of pieces(alerts)) await tx.send({ topic: this.topics.alerts, messages: piece });
          for (const piece of pieces(stateMessages))
            await tx.send({ topic: this.internal.state, messages: piece });
          await tx.sendOffsets({ consumerGroupId: this.config.groupId, topics: offsets });
          await tx.commit();
          return;
        } catch (error) {
          // Aborted, the attempt leaves nothing readable; the same content goes in the next one. A broker
          // still finishing this producer's previous transaction answers CONCURRENT_TRANSACTIONS, which
          // KafkaJS does not retry for every request.
          // A transaction whose commit was sent cannot be aborted any more: its outcome is in doubt.
          const aborted = await tx.abort().then(
            () => true,
            () => false,
          );
          if (!aborted || isFenced(error) || attempt >= 8 || !isRetriable(error)) throw error;
          await new Promise((r) => setTimeout(r, 50 * attempt));
        }
      }
    } finally {
      end();
    }
  }
}
