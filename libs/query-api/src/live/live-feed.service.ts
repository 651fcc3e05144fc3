import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Anomaly, DeviceLifecycle, TelemetrySample } from '@sentio/events';
import { StreamHandler, type StreamBatch } from '@sentio/kafka';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
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
 * happens from now on, not what it missed. Nobody listening to a channel: its batches are not even decoded,
 * so a live feed costs only when it is used. Undecodable records are skipped (ingest dead-letters them).
 */
const live = (stream: 'telemetry' | 'anomalies' | 'lifecycle') => ({
  streams: [stream] as const,
  group: (self: LiveFeed) => self.groupId,
  component: 'live-feed',
  commit: 'none' as const,
  fromBeginning: false,
});

@Injectable()
export class LiveFeed implements BeforeApplicationShutdown {
  readonly telemetry = new LiveChannel<DeviceTelemetryDto>();
  readonly anomalies = new LiveChannel<AnomalyDto>();
  readonly lifecycle = new LiveChannel<LifecycleChangeDto>();
  readonly groupId: string;
  private readonly devices = new Map<string, DeviceState>();
  private stopped = false;

  constructor(@Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig) {
    this.groupId = `${config.live.groupPrefix}-${randomBytes(6).toString('hex')}`;
  }

  @StreamHandler(live('telemetry'))
  async onTelemetry(batch: StreamBatch<TelemetrySample>): Promise<void> {
    if (this.telemetry.size === 0) return;
    for (const { value } of await batch.decode()) this.onSample(value);
  }

  @StreamHandler(live('anomalies'))
  async onAnomalies(batch: StreamBatch<Anomaly>): Promise<void> {
    if (this.anomalies.size === 0) return;
    for (const { value } of await batch.decode()) this.anomalies.publish(toAnomaly(value));
  }

  @StreamHandler(live('lifecycle'))
  async onLifecycle(batch: StreamBatch<DeviceLifecycle>): Promise<void> {
    if (this.lifecycle.size === 0) return;
    for (const { value } of await batch.decode()) this.lifecycle.publish(toLifecycle(value));
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
