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
import type { Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { AlertingConfig } from '../alerting.config.js';
import { ALERTING_CONFIG } from '../alerting.tokens.js';
import { alertingTopics, alertingTopicSpecs } from '../alerting-topics.js';
import { silenceActive, type Silence } from '../dispatch/silences.js';
import type { DeliveryAttempt } from '../notify/notification-log.js';
import { TopicReader } from '../topic-reader.js';

const HISTORY_PER_ALERT = 200;
const DELIVERIES_KEPT = 20_000;

/**
 * What the API shows, folded from the alerting topics in this process: every alert's latest state and its
 * recent transitions, the recent delivery attempts, and the silences. Read from the beginning at start, then
 * followed. Alert history is served from the `alerts` table (AlertHistoryService); the recent transitions here
 * only fill in what ingest has not flushed to the table yet.
 */
@Injectable()
export class AlertingViewService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly alerts = new Map<string, AlertEvent>();
  readonly history = new Map<string, AlertEvent[]>();
  readonly deliveries: DeliveryAttempt[] = [];
  readonly silences = new Map<string, Silence>();
  private readers: TopicReader[] = [];
  private readonly logger: Logger;
  private loaded: Promise<void> | undefined;

  constructor(
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
  ) {
    this.logger = logger.child({ component: 'alerting-api' });
  }

  onApplicationBootstrap(): Promise<void> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  /** Resolves once everything written before the call is visible (tests and read-after-write). */
  ready(): Promise<void> {
    return this.onApplicationBootstrap();
  }

  private async load(): Promise<void> {
    const internal = alertingTopics(this.kafkaConfig.namespace);
    // The api may start before (or without) the alerting target: the topics it reads exist either way.
    const { namespace, partitions, replicationFactor } = this.kafkaConfig;
    await ensureTopics(this.kafka, alertingTopicSpecs(namespace, partitions, replicationFactor), this.logger);
    const codec = await EventCodec.register(this.serde, eventStreams.alerts, this.topics.alerts);
    const alerts = new TopicReader(
      this.kafka,
      [this.topics.alerts],
      async (_t, _p, message) => {
        await codec.prepare([message.value]);
        const d = codec.decode(message.value);
        if (d.ok) this.applyAlert(d.value);
      },
      this.logger,
      `${this.config.groupId}-api-alerts`,
    );
    const other = new TopicReader(
      this.kafka,
      [internal.deliveries, internal.silences],
      (topic, _p, message) => {
        const value = message.value?.length ? (JSON.parse(message.value.toString()) as unknown) : null;
        if (topic === internal.deliveries) {
          if (!value) return;
          this.deliveries.push(value as DeliveryAttempt);
          if (this.deliveries.length > DELIVERIES_KEPT)
            this.deliveries.splice(0, this.deliveries.length - DELIVERIES_KEPT);
        } else if (value) this.silences.set((value as Silence).id, value as Silence);
        else this.silences.delete(message.key?.toString() ?? '');
      },
      this.logger,
      `${this.config.groupId}-api-state`,
    );
    this.readers = [alerts, other];
    await Promise.all([alerts.start(), other.start()]);
    await Promise.all([alerts.caughtUp, other.caughtUp]);
  }

  applyAlert(event: AlertEvent): void {
    const list = this.history.get(event.alertId) ?? [];
    if (list.some((e) => e.eventId === event.eventId)) return;
    list.push(event);
    if (list.length > HISTORY_PER_ALERT) list.shift();
    this.history.set(event.alertId, list);
    const current = this.alerts.get(event.alertId);
    if (event.status === 'ACKNOWLEDGED') {
      if (current)
        this.alerts.set(event.alertId, {
          ...current,
          actor: event.actor,
          assignee: event.assignee,
          comment: event.comment,
        });
      return;
    }
    if (!current || event.sequence >= current.sequence) {
      // An acknowledgement lasts until the alert resolves.
      const keepAck = current && event.status !== 'RESOLVED' && event.status !== 'INACTIVE';
      this.alerts.set(
        event.alertId,
        keepAck
          ? { ...event, actor: current.actor, assignee: current.assignee, comment: current.comment }
          : event,
      );
    }
  }

  activeSilences(now = Date.now()): Silence[] {
    return [...this.silences.values()].filter((s) => silenceActive(s, now) || (!s.expired && s.endsAt > now));
  }

  async onModuleDestroy(): Promise<void> {
    for (const r of this.readers) await r.stop();
  }
}
