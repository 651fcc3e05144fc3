import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type Anomaly, type DeviceLifecycle, type TelemetrySample } from '@sentio/events';
import { BatchConsumer, EVENT_TOPICS, KAFKA, type ConsumedBatch, type EventTopics } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER } from '../query-api.tokens.js';
import type { AnomalyDto } from '../query/detections.dto.js';
import type { LatestValueDto } from '../query/metrics.dto.js';
import { LiveChannel } from './live-channel.util.js';
import type { DeviceTelemetryDto, LifecycleChangeDto } from './live.dto.js';

interface DeviceState {
  values: Map<string, LatestValueDto>;
  lastSentMs: number;
  timer?: NodeJS.Timeout;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Feeds GraphQL subscriptions from Kafka. Each process reads with a consumer group of its own, from the end
 * of the topics and without committing: every replica must see every event, and a restarted one wants what
 * happens from now on, not what it missed.
 */
@Injectable()
export class LiveFeed implements OnApplicationBootstrap, OnModuleDestroy {
  readonly telemetry = new LiveChannel<DeviceTelemetryDto>();
  readonly anomalies = new LiveChannel<AnomalyDto>();
  readonly lifecycle = new LiveChannel<LifecycleChangeDto>();
  private readonly devices = new Map<string, DeviceState>();
  private consumer?: BatchConsumer;
  private stopped = false;

  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(QUERY_API_LOGGER) private readonly logger: Logger,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // One at a time: Apicurio answers concurrent first registrations with a spurious conflict.
    const telemetry = await EventCodec.register(this.serde, eventStreams.telemetry, this.topics.telemetry);
    const anomalies = await EventCodec.register(this.serde, eventStreams.anomalies, this.topics.anomalies);
    const lifecycle = await EventCodec.register(this.serde, eventStreams.lifecycle, this.topics.lifecycle);
    const groupId = `${this.config.live.groupPrefix}-${randomBytes(6).toString('hex')}`;
    const consumer = new BatchConsumer(
      this.kafka,
      { groupId, topics: [telemetry.topic, anomalies.topic, lifecycle.topic], fromBeginning: false },
      this.logger,
    );
    this.consumer = consumer;
    const handle = async (batch: ConsumedBatch) => {
      const values = batch.messages.map((m) => m.value);
      if (batch.topic === telemetry.topic) {
        // Nobody listening: skip the decoding, the cost of a live feed is paid only when it is used.
        if (this.telemetry.size === 0) return;
        await telemetry.prepare(values);
        for (const v of values) this.onDecoded(telemetry.decode(v), (s) => this.onSample(s));
      } else if (batch.topic === anomalies.topic) {
        if (this.anomalies.size === 0) return;
        await anomalies.prepare(values);
        for (const v of values)
          this.onDecoded(anomalies.decode(v), (a) => this.anomalies.publish(toAnomaly(a)));
      } else {
        if (this.lifecycle.size === 0) return;
        await lifecycle.prepare(values);
        for (const v of values) {
          this.onDecoded(lifecycle.decode(v), (e) => this.lifecycle.publish(toLifecycle(e)));
        }
      }
    };
    await consumer.start(handle);
    this.logger.info({ groupId }, 'query-api: live feed consuming from the end of the topics');
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const state of this.devices.values()) clearTimeout(state.timer);
    await this.consumer?.stop();
  }

  private onDecoded<T>(result: ReturnType<EventCodec<T>['decode']>, use: (value: T) => void): void {
    // Undecodable records are ingest's business (it dead-letters them); the live feed just skips them.
    if (result.ok) use(result.value);
  }

  /**
   * Keeps the newest value per metric and sends a device's values at most once per interval: the first
   * sample at once, later ones folded into one update at the end of the interval.
   */
  private onSample(sample: TelemetrySample): void {
    let state = this.devices.get(sample.deviceId);
    if (!state) {
      state = { values: new Map(), lastSentMs: 0 };
      this.devices.set(sample.deviceId, state);
    }
    const known = state.values.get(sample.metric);
    if (!known || Date.parse(known.ts) <= sample.timestampMs) {
      state.values.set(sample.metric, {
        metric: sample.metric,
        value: sample.value,
        unit: sample.unit ?? '',
        quality: sample.quality,
        ts: iso(sample.timestampMs),
      });
    }
    if (state.timer) return;
    const wait = state.lastSentMs + this.config.live.telemetryIntervalMs - Date.now();
    const send = (s: DeviceState) => {
      s.timer = undefined;
      if (this.stopped) return;
      s.lastSentMs = Date.now();
      this.telemetry.publish({
        deviceId: sample.deviceId,
        values: [...s.values.values()].sort((a, b) => a.metric.localeCompare(b.metric)),
      });
    };
    if (wait <= 0) send(state);
    else state.timer = setTimeout(send, wait, state);
  }
}

function toAnomaly(a: Anomaly): AnomalyDto {
  return {
    ts: iso(a.timestampMs),
    deviceId: a.deviceId,
    assetId: a.assetId,
    windowStart: iso(a.windowStartMs),
    windowEnd: iso(a.windowEndMs),
    score: a.score,
    threshold: a.threshold,
    contributions: a.contributions.map((c) => ({ metric: c.metric, error: c.error })),
    modelId: a.modelId,
    modelVersion: a.modelVersion,
    eventId: a.eventId,
  };
}

function toLifecycle(e: DeviceLifecycle): LifecycleChangeDto {
  return {
    ts: iso(e.timestampMs),
    deviceId: e.deviceId,
    kind: e.kind,
    deviceType: e.deviceType ?? '',
    connector: e.connector,
    online: e.online,
  };
}
