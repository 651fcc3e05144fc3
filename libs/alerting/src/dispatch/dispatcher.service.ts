import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams } from '@sentio/events';
import {
  EVENT_TOPICS,
  EventProducer,
  KAFKA,
  KAFKA_CONFIG,
  LOGGER,
  ensureTopics,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { counter, HealthRegistry, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { AlertingConfig } from '../alerting.config.js';
import { ALERTING_CONFIG } from '../alerting.tokens.js';
import { alertingTopics, alertingTopicSpecs } from '../alerting-topics.js';
import type {
  DeliveryAttempt,
  NotificationLogEntry,
  NotificationLogStore,
} from '../notify/notification-log.js';
import { EvaluatorService } from '../evaluation/evaluator.service.js';
import { NotifyPipeline } from '../notify/notify-pipeline.js';
import { TopicReader } from '../topic-reader.js';
import { buildDispatchConfig } from './dispatch-config.util.js';
import { DispatchLeadership } from './dispatch-leader.js';
import { Dispatcher } from './dispatcher.js';
import { Silences, type Silence } from './silences.js';

const attempts = counter('sentio_alerting_delivery_attempts_total', 'Notification delivery attempts', [
  'integration',
  'result',
]);

/** The notification log on its compacted topic: read whole at start, written before a flush counts as sent. */
class TopicNotificationLog implements NotificationLogStore {
  readonly entries = new Map<string, NotificationLogEntry>();
  constructor(
    private readonly producer: EventProducer,
    private readonly topic: string,
  ) {}
  get(key: string): NotificationLogEntry | undefined {
    return this.entries.get(key);
  }
  async put(entry: NotificationLogEntry): Promise<void> {
    await this.producer.send(this.topic, [{ key: entry.key, value: JSON.stringify(entry) }]);
    this.entries.set(entry.key, entry);
  }
}

/**
 * Notifications: rebuilds the alerts from the alerts topic (read from the beginning, then followed), the
 * notification log and the silences from their compacted topics, and only then starts routing, so a
 * restart re-notifies nothing the log says was delivered (Alertmanager's WaitForLoading).
 */
@Injectable()
export class DispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger: Logger;
  private readers: TopicReader[] = [];
  private leadership: DispatchLeadership | undefined;
  dispatcher: Dispatcher | undefined;
  private gcTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(EventProducer) private readonly producer: EventProducer,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(EvaluatorService) private readonly evaluator: EvaluatorService,
  ) {
    this.logger = logger.child({ component: 'alerting-dispatcher' });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Before anything else: a bad receiver or route stops start-up naming the field.
    const dispatchConfig = buildDispatchConfig(this.config);
    const internal = alertingTopics(this.kafkaConfig.namespace);
    await ensureTopics(
      this.kafka,
      alertingTopicSpecs(
        this.kafkaConfig.namespace,
        this.kafkaConfig.partitions,
        this.kafkaConfig.replicationFactor,
      ),
      this.logger,
    );
    const nflog = new TopicNotificationLog(this.producer, internal.notifications);
    const silences = new Silences();
    const pipeline = new NotifyPipeline(
      nflog,
      { record: (a) => this.recordAttempt(internal.deliveries, a) },
      this.logger,
    );
    const dispatcher = new Dispatcher(dispatchConfig, silences, pipeline, this.logger);
    const codec = await EventCodec.register(this.serde, eventStreams.alerts, this.topics.alerts);
    const state = new TopicReader(
      this.kafka,
      [internal.notifications, internal.silences],
      (topic, _p, message) => {
        const key = message.key?.toString() ?? '';
        const value = message.value?.length ? (JSON.parse(message.value.toString()) as unknown) : null;
        if (topic === internal.notifications) {
          if (value) nflog.entries.set(key, value as NotificationLogEntry);
        } else if (value) silences.upsert(value as Silence);
        else silences.delete(key);
      },
      this.logger,
      `${this.config.groupId}-dispatch-state`,
    );
    const alerts = new TopicReader(
      this.kafka,
      [this.topics.alerts],
      async (_t, _p, message) => {
        await codec.prepare([message.value]);
        const decoded = codec.decode(message.value);
        if (decoded.ok) dispatcher.apply(decoded.value);
      },
      this.logger,
      `${this.config.groupId}-dispatch-alerts`,
    );
    this.readers = [state, alerts];
    await state.start();
    await state.caughtUp;
    await alerts.start();
    await alerts.caughtUp;
    dispatcher.gc(this.config.resolvedRetentionMs);
    this.dispatcher = dispatcher;
    // One dispatcher among the alerting processes routes; it first reads what its predecessor logged.
    let routing = false;
    const leadership = new DispatchLeadership(
      {
        acquired: async () => {
          if (routing) return;
          const started = Date.now();
          await state.sync();
          await alerts.sync();
          dispatcher.startRouting();
          routing = true;
          this.logger.info(
            { alerts: dispatcher.alerts.size, notificationLog: nflog.entries.size, ms: Date.now() - started },
            'dispatch routing started',
          );
        },
        released: () => {
          if (!routing) return;
          dispatcher.stopRouting();
          routing = false;
        },
      },
      this.logger,
    );
    this.leadership = leadership;
    this.evaluator.onDispatchLeadership((leader, reason) => leadership.set(leader, reason));
    this.gcTimer = setInterval(() => dispatcher.gc(this.config.resolvedRetentionMs), 60_000);
    this.gcTimer.unref();
    this.health.register('alerting-dispatcher', () => ({
      state: 'up',
      detail: {
        leader: this.leadership?.isLeader ?? false,
        alerts: dispatcher.alerts.size,
        groups: dispatcher.groupsSnapshot().length,
        receivers: [...dispatchConfig.receivers.keys()],
        silences: silences.list().length,
      },
    }));
    this.logger.info(
      { alerts: dispatcher.alerts.size, notificationLog: nflog.entries.size },
      'alerting dispatching',
    );
  }

  private recordAttempt(topic: string, attempt: DeliveryAttempt): void {
    attempts.inc({ integration: attempt.integration, result: attempt.ok ? 'ok' : 'failed' });
    this.logger.info(
      {
        integration: attempt.integration,
        attempt: attempt.attempt,
        ok: attempt.ok,
        err: attempt.error,
        idempotencyKey: attempt.idempotencyKey,
      },
      'delivery attempt',
    );
    this.producer
      .send(topic, [{ key: attempt.idempotencyKey, value: JSON.stringify(attempt) }])
      .catch((error: unknown) => this.logger.error({ err: error }, 'delivery attempt not recorded'));
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.gcTimer);
    await this.leadership?.stop();
    await this.dispatcher?.stop();
    for (const r of this.readers) await r.stop();
  }
}
