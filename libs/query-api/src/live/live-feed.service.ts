import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Anomaly, DeviceLifecycle, TelemetrySample } from '@sentio/events';
import { KAFKA, StreamHandler, type StreamBatch } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER } from '../query-api.tokens.js';
import type { AnomalyDto } from '../query/detections.dto.js';
import type { LatestValueDto } from '../query/metrics.dto.js';
import { LiveChannel } from './live-channel.util.js';
import { ReplayLog } from './live-replay.util.js';
import type { DeviceTelemetryDto, LifecycleChangeDto, LiveAnomalyDto } from './live.dto.js';

interface DeviceState {
  values: Map<string, LatestValueDto>;
  lastSentMs: number;
  timer?: NodeJS.Timeout;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Recent anomalies and lifecycle changes kept for clients that resume after a reconnect (per channel). */
const REPLAY_MAX_EVENTS = 20_000;
const REPLAY_WINDOW_MS = 10 * 60_000;

/**
 * Feeds GraphQL subscriptions from Kafka. Each process reads with a consumer group of its own, from the end
 * of the topics and without committing: every API instance must see every event (a shared group would
 * split the partitions, and each instance's clients would get only its share), and a restarted one starts
 * from now. Discrete events (anomalies, lifecycle) are kept in a bounded replay log with their offsets, so
 * a client that reconnects, to this instance or another, resumes after its last event without a gap (see
 * ReplayLog). Telemetry is conflated by design (the newest value per metric, at most once per interval):
 * nobody listening, its batches are not even decoded. Undecodable records are skipped (ingest
 * dead-letters them).
 */
const live = (stream: 'telemetry' | 'anomalies' | 'lifecycle') => ({
  streams: [stream] as const,
  group: (self: LiveFeed) => self.groupId,
  component: 'live-feed',
  commit: 'none' as const,
  fromBeginning: false,
  onAssignment: (self: LiveFeed, assigned: Array<{ topic: string; partition: number }>) =>
    self.onAssigned(stream, assigned),
});

@Injectable()
export class LiveFeed implements BeforeApplicationShutdown {
  readonly telemetry = new LiveChannel<DeviceTelemetryDto>();
  readonly anomalies = new LiveChannel<Positioned<LiveAnomalyDto>>();
  readonly lifecycle = new LiveChannel<Positioned<LifecycleChangeDto>>();
  readonly anomalyLog = new ReplayLog<Positioned<LiveAnomalyDto>>(REPLAY_MAX_EVENTS, REPLAY_WINDOW_MS);
  readonly lifecycleLog = new ReplayLog<Positioned<LifecycleChangeDto>>(REPLAY_MAX_EVENTS, REPLAY_WINDOW_MS);
  readonly groupId: string;
  private readonly devices = new Map<string, DeviceState>();
  private stopped = false;

  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(QUERY_API_LOGGER) private readonly logger: Logger,
  ) {
    this.groupId = `${config.live.groupPrefix}-${randomBytes(6).toString('hex')}`;
  }

  /**
   * Reading from the end starts at the partitions' ends as of about now: noted per partition, so a client
   * resuming from before that is told at once that this instance cannot cover it.
   */
  onAssigned(stream: string, assigned: Array<{ topic: string; partition: number }>): void {
    const log =
      stream === 'anomalies' ? this.anomalyLog : stream === 'lifecycle' ? this.lifecycleLog : undefined;
    const topic = assigned[0]?.topic;
    if (!log || !topic) return;
    const admin = this.kafka.admin();
    void admin
      .connect()
      .then(() => admin.fetchTopicOffsets(topic))
      .then((ends) => {
        for (const e of ends) log.assigned(e.partition, BigInt(e.high));
      })
      .catch((error: unknown) => this.logger.warn({ err: error, topic }, 'live feed: partition ends unknown'))
      .finally(() => void admin.disconnect().catch(() => undefined));
  }

  @StreamHandler(live('telemetry'))
  async onTelemetry(batch: StreamBatch<TelemetrySample>): Promise<void> {
    if (this.telemetry.size === 0) return;
    for (const { value } of await batch.decode()) this.onSample(value);
  }

  @StreamHandler(live('anomalies'))
  async onAnomalies(batch: StreamBatch<Anomaly>): Promise<void> {
    await this.positioned(batch, this.anomalies, this.anomalyLog, (a, cursor) => ({
      ...toAnomaly(a),
      cursor,
    }));
  }

  @StreamHandler(live('lifecycle'))
  async onLifecycle(batch: StreamBatch<DeviceLifecycle>): Promise<void> {
    await this.positioned(batch, this.lifecycle, this.lifecycleLog, (e, cursor) => ({
      ...toLifecycle(e),
      cursor,
    }));
  }

  /** Decodes a batch of a discrete stream into the replay log, then publishes it with cursors. */
  private async positioned<E, D extends { deviceId: string }>(
    batch: StreamBatch<E>,
    channel: LiveChannel<Positioned<D>>,
    log: ReplayLog<Positioned<D>>,
    toDto: (event: E, cursor: string) => D,
  ): Promise<void> {
    const first = batch.messages[0];
    const last = batch.messages.at(-1);
    if (!first || !last) return;
    const records = await batch.decode();
    log.read(batch.partition, BigInt(first.offset), BigInt(last.offset) + 1n);
    for (const { message, value } of records) {
      const offset = BigInt(message.offset);
      const event: Positioned<D> = {
        dto: toDto(value, log.cursor(batch.partition, offset)),
        partition: batch.partition,
        offset,
      };
      log.append(batch.partition, offset, event);
      channel.publish(event);
    }
  }

  /** The consumer has left by now (stream consumers stop during onModuleDestroy): drop pending sends. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    for (const state of this.devices.values()) clearTimeout(state.timer);
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

/** A live event with where it is in its topic (the DTO is what the client gets). */
export interface Positioned<D> {
  dto: D;
  partition: number;
  offset: bigint;
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

function toLifecycle(e: DeviceLifecycle): Omit<LifecycleChangeDto, 'cursor'> {
  return {
    ts: iso(e.timestampMs),
    deviceId: e.deviceId,
    kind: e.kind,
    deviceType: e.deviceType ?? '',
    connector: e.connector,
    online: e.online,
  };
}
