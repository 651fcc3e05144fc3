import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type AlertEvent } from '@sentio/events';
import {
  EVENT_TOPICS,
  KAFKA,
  KAFKA_CONFIG,
  LOGGER,
  ensureTopics,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { counter, gauge, HealthRegistry, histogram, type Logger } from '@sentio/observability';
import type { Consumer, Kafka, Message, Producer } from 'kafkajs';
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
  engine: AlertEngine;
  /** Wall time of the last input, and of the last idle advance. */
  lastInputAt: number;
  lastAdvanceAt: number;
}

/**
 * Streaming evaluation: consumes the device streams in a consumer group (co-partitioned by device), runs
 * each partition's AlertEngine in event time, and commits, in one Kafka transaction, the transitions (to
 * the alerts topic), the changed per-(rule, device) state (to the compacted state topic) and the input
 * offsets. A crash anywhere aborts the open transaction: the restart restores the committed state and
 * re-reads from the committed offsets, so every transition is on the topic exactly once, and a restored
 * pending or firing alert continues without a new transition (hence without a new notification).
 */
@Injectable()
export class EvaluatorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private readonly partitions = new Map<number, PartitionState>();
  /** Committed state per input partition, read once at start (key -> snapshot). */
  private restored = new Map<number, Map<string, InstanceSnapshot>>();
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private lifecycle: TopicReader | undefined;
  private pendingAlerts: Message[] = [];
  private pendingOffsets = new Map<string, { topic: string; partition: number; offset: string }>();
  private committing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private alertCodec: EventCodec<AlertEvent> | undefined;
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
    await this.loadState();

    this.producer = this.kafka.producer({
      transactionalId: `${this.config.groupId}-${this.config.instanceId}`,
      idempotent: true,
      maxInFlightRequests: 1,
      // A commit under a slow broker can take long; the broker would abort a transaction older than this
      // (KafkaJS' default, 60 s, was hit on a loaded machine). Bounded by transaction.max.timeout.ms (15 min).
      transactionTimeout: 300_000,
    });
    await this.producer.connect();
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
    const consumer = this.kafka.consumer({
      groupId: this.config.groupId,
      partitionAssigners: [coPartitionedAssigner],
      sessionTimeout: this.kafkaConfig.consumer.sessionTimeoutMs,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const owned = new Set(Object.values(payload.memberAssignment).flat() as number[]);
      // Partitions gone to another member: their state is theirs now (restored from the state topic there).
      for (const p of this.partitions.keys()) if (!owned.has(p)) this.partitions.delete(p);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [this.topics.telemetry, this.topics.anomalies, this.topics.forecasts, this.topics.logs],
      fromBeginning: true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
        if (this.stopped || !isRunning() || isStale()) return;
        const decode = decoders[batch.topic]!;
        await codecs.telemetry.prepare(batch.messages.map((m) => m.value));
        const state = this.partition(batch.partition);
        for (const message of batch.messages) {
          const input = decode(message.value);
          // Undecodable inputs are the projections' business (ingest dead-letters them); alerting skips them.
          if (!input) continue;
          this.emit(state.engine.process(input));
        }
        state.lastInputAt = Date.now();
        evaluated.inc({ topic: batch.topic }, batch.messages.length);
        const last = batch.messages.at(-1);
        if (last) {
          this.pendingOffsets.set(`${batch.topic}:${batch.partition}`, {
            topic: batch.topic,
            partition: batch.partition,
            offset: (BigInt(last.offset) + 1n).toString(),
          });
        }
        // Back-pressure: a slow broker makes the consumer wait instead of piling up transitions.
        if (this.pendingAlerts.length > 20_000) await this.commit();
        await heartbeat();
      },
    });
    this.timer = setInterval(() => void this.tick(), Math.min(this.config.commitIntervalMs, 500));
    this.health.register('alerting-evaluator', () => ({
      state: 'up',
      detail: {
        groupId: this.config.groupId,
        rules: this.rules.ruleSet.rules.size,
        partitions: [...this.partitions.keys()].sort((a, b) => a - b),
        instances: [...this.partitions.values()].reduce((n, p) => n + p.engine.size, 0),
      },
    }));
    this.logger.info(
      { groupId: this.config.groupId, rules: this.rules.ruleSet.rules.size },
      'alerting evaluating',
    );
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
    await this.producer?.disconnect().catch(() => undefined);
    await this.lifecycle?.stop();
  }

  private partition(p: number): PartitionState {
    let state = this.partitions.get(p);
    if (!state) {
      const engine = new AlertEngine(this.rules.ruleSet, {
        allowedLatenessMs: this.config.allowedLatenessMs,
      });
      for (const snapshot of this.restored.get(p)?.values() ?? []) engine.restore(snapshot);
      this.restored.delete(p);
      state = { engine, lastInputAt: Date.now(), lastAdvanceAt: Date.now() };
      this.partitions.set(p, state);
      this.logger.info({ partition: p, restored: engine.size }, 'partition state restored');
    }
    return state;
  }

  private async loadState(): Promise<void> {
    const restored = new Map<number, Map<string, InstanceSnapshot>>();
    const reader = new TopicReader(
      this.kafka,
      [this.internal.state],
      (_t, partition, message) => {
        const key = message.key?.toString() ?? '';
        let map = restored.get(partition);
        if (!map) restored.set(partition, (map = new Map()));
        if (message.value === null || message.value.length === 0) map.delete(key);
        else map.set(key, JSON.parse(message.value.toString()) as InstanceSnapshot);
      },
      this.logger,
      `${this.config.groupId}-state`,
    );
    await reader.start();
    await reader.caughtUp;
    await reader.stop();
    this.restored = restored;
    this.logger.info(
      { instances: [...restored.values()].reduce((n, m) => n + m.size, 0) },
      'alert state loaded',
    );
  }

  private emit(out: AlertTransition[]): void {
    for (const t of out) {
      transitions.inc({ status: t.status });
      const event = transitionEvent(t);
      this.pendingAlerts.push({ key: eventStreams.alerts.key(event), value: this.alertCodec!.encode(event) });
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
      if (target > 0) this.emit(engine.advance(target));
    }
    instancesGauge.set([...this.partitions.values()].reduce((n, p) => n + p.engine.size, 0));
    await this.commit().catch((error: unknown) => {
      // The in-memory state is now ahead of what is committed: only a restart (from the committed state)
      // is consistent again.
      this.logger.fatal(
        { err: error },
        'alerting transaction failed; exiting to restart from committed state',
      );
      process.exit(70);
    });
  }

  /** One transaction: transitions, changed state, offsets. Serialized: one at a time, in order. */
  commit(): Promise<void> {
    this.committing = this.committing.then(() => this.commitNow());
    return this.committing;
  }

  private async commitNow(): Promise<void> {
    const alerts = this.pendingAlerts;
    const offsets = [...this.pendingOffsets.values()];
    const state: Message[] = [];
    for (const [p, s] of this.partitions) {
      for (const [key, snapshot] of s.engine.takeDirty()) {
        state.push({ key, value: snapshot ? JSON.stringify(snapshot) : null, partition: p });
      }
    }
    if (alerts.length === 0 && offsets.length === 0 && state.length === 0) return;
    this.pendingAlerts = [];
    this.pendingOffsets = new Map();
    const end = commitSeconds.startTimer();
    const tx = await this.producer!.transaction();
    try {
      // In request-sized pieces: one partition's batch must stay under the broker's message.max.bytes.
      for (const piece of pieces(alerts)) await tx.send({ topic: this.topics.alerts, messages: piece });
      for (const piece of pieces(state)) await tx.send({ topic: this.internal.state, messages: piece });
      if (offsets.length > 0) {
        const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
        for (const o of offsets)
          byTopic.set(o.topic, [
            ...(byTopic.get(o.topic) ?? []),
            { partition: o.partition, offset: o.offset },
          ]);
        await tx.sendOffsets({
          consumerGroupId: this.config.groupId,
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        });
      }
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      throw error;
    } finally {
      end();
    }
  }
}
