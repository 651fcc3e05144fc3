import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type Anomaly, type Forecast, type TelemetrySample } from '@sentio/events';
import {
  BatchConsumer,
  EVENT_TOPICS,
  EventProducer,
  KAFKA,
  KAFKA_CONFIG,
  LOGGER,
  type ConsumedBatch,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { counter, HealthRegistry, type Logger } from '@sentio/observability';
import type { Kafka, Message } from 'kafkajs';
import type { DetectorsConfig } from './detectors.config.js';
import { assessFailure, fitHolt, holtForecast } from './holt-forecaster.js';
import { initTfBackend } from './tf-backend.js';
import { WindowAssembler, type AssembledWindow } from './window-assembler.js';
import { WindowAutoencoder } from './window-autoencoder.js';

export const DETECTORS_CONFIG = Symbol('DetectorsConfig');

const scored = counter('sentio_detectors_windows_scored_total', 'Windows scored by a device model');
const flagged = counter('sentio_detectors_anomalies_total', 'Windows scored above their threshold');

interface DeviceDetector {
  model: WindowAutoencoder | undefined;
  training: boolean;
  /** Resampled rows kept for training (until the model exists) and for forecasting. */
  rows: Array<{ endMs: number; values: number[] }>;
  rowsSinceForecast: number;
}

/**
 * Consumes telemetry, resamples it per device into windows, and produces Anomaly events (window autoencoder,
 * trained per device on its first `trainRows` rows and kept in `modelDir`) and Forecast events (Holt per
 * metric with time to failure against the configured limits). Offsets are committed after the events a
 * batch caused are acknowledged; windows being assembled at a restart are rebuilt from the next records.
 */
@Injectable()
export class DetectorsService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchConsumer | undefined;
  private readonly devices = new Map<string, DeviceDetector>();
  private readonly assembler: WindowAssembler;
  private readonly logger: Logger;

  constructor(
    @Inject(DETECTORS_CONFIG) private readonly config: DetectorsConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    private readonly serde: AvroSerde,
    private readonly producer: EventProducer,
    private readonly health: HealthRegistry,
  ) {
    this.logger = logger.child({ component: 'detectors' });
    this.assembler = new WindowAssembler({
      metrics: config.metrics,
      stepMs: config.stepMs,
      windowLength: config.windowLength,
      allowedLatenessMs: config.allowedLatenessMs,
      maxFillSteps: config.maxFillSteps,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await initTfBackend(this.logger);
    const telemetry = await EventCodec.register<TelemetrySample>(
      this.serde,
      eventStreams.telemetry,
      this.topics.telemetry,
    );
    const anomalies = await EventCodec.register<Anomaly>(
      this.serde,
      eventStreams.anomalies,
      this.topics.anomalies,
    );
    const forecasts = await EventCodec.register<Forecast>(
      this.serde,
      eventStreams.forecasts,
      this.topics.forecasts,
    );
    const consumer = new BatchConsumer(
      this.kafka,
      {
        groupId: this.config.groupId,
        topics: [this.topics.telemetry],
        sessionTimeoutMs: this.kafkaConfig.consumer.sessionTimeoutMs,
      },
      this.logger,
    );
    this.consumer = consumer;
    await consumer.start(async (batch) => {
      const out = await this.handle(batch, telemetry, anomalies, forecasts);
      await Promise.all([
        this.producer.send(this.topics.anomalies, out.anomalies),
        this.producer.send(this.topics.forecasts, out.forecasts),
      ]);
      await consumer.commit(
        batch.topic,
        batch.partition,
        (BigInt(batch.messages.at(-1)!.offset) + 1n).toString(),
      );
    });
    this.health.register('detectors', () => ({
      state: 'up',
      detail: { groupId: this.config.groupId, devices: this.devices.size, ...this.assembler.stats },
    }));
    this.logger.info({ groupId: this.config.groupId, metrics: this.config.metrics }, 'detectors consuming');
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.stop();
    for (const d of this.devices.values()) d.model?.dispose();
  }

  private async handle(
    batch: ConsumedBatch,
    telemetry: EventCodec<TelemetrySample>,
    anomalies: EventCodec<Anomaly>,
    forecasts: EventCodec<Forecast>,
  ): Promise<{ anomalies: Message[]; forecasts: Message[] }> {
    await telemetry.prepare(batch.messages.map((m) => m.value));
    const out = { anomalies: [] as Message[], forecasts: [] as Message[] };
    for (const message of batch.messages) {
      const decoded = telemetry.decode(message.value);
      // Undecodable telemetry is ingest's to dead-letter; a detector just skips it.
      if (!decoded.ok || decoded.value.quality === 'BAD') continue;
      for (const window of this.assembler.add(decoded.value)) {
        const device = await this.device(window.deviceId);
        const anomaly = this.score(device, window);
        if (anomaly) out.anomalies.push({ key: anomaly.deviceId, value: anomalies.encode(anomaly) });
        for (const forecast of this.forecast(device, window))
          out.forecasts.push({ key: forecast.deviceId, value: forecasts.encode(forecast) });
      }
    }
    return out;
  }

  private async device(deviceId: string): Promise<DeviceDetector> {
    let device = this.devices.get(deviceId);
    if (!device) {
      const dir = this.modelDir(deviceId);
      const saved = await access(join(dir, 'metadata.json')).then(
        () => true,
        () => false,
      );
      const model = saved ? await WindowAutoencoder.load(dir) : undefined;
      if (model) this.logger.info({ deviceId, modelVersion: model.metadata.modelVersion }, 'model loaded');
      device = { model, training: false, rows: [], rowsSinceForecast: 0 };
      this.devices.set(deviceId, device);
    }
    return device;
  }

  private score(device: DeviceDetector, window: AssembledWindow): Anomaly | undefined {
    const newest = window.rows[window.rows.length - 1]!;
    device.rows.push({ endMs: window.endMs, values: newest });
    const keep = Math.max(this.config.trainRows, this.config.forecast.historyRows);
    if (device.rows.length > keep) device.rows.splice(0, device.rows.length - keep);
    if (!device.model) {
      if (!device.training && device.rows.length >= this.config.trainRows)
        this.train(window.deviceId, device);
      return undefined;
    }
    const model = device.model;
    const result = model.scoreWindow(window.rows);
    scored.inc();
    if (result.score <= model.threshold) return undefined;
    flagged.inc();
    const { modelId, modelVersion } = model.metadata;
    return {
      eventId: createHash('sha256')
        .update(`${modelId}:${modelVersion}:${window.endMs}`)
        .digest('hex')
        .slice(0, 32),
      deviceId: window.deviceId,
      assetId: window.deviceId,
      timestampMs: window.endMs,
      windowStartMs: window.startMs,
      windowEndMs: window.endMs,
      score: result.score,
      threshold: model.threshold,
      contributions: result.contributions
        .map((error, i) => ({ metric: this.config.metrics[i]!, error }))
        .sort((a, b) => b.error - a.error),
      modelId,
      modelVersion,
    };
  }

  /** Trains off the hot path: the device is scored from the first window after the model is ready. */
  private train(deviceId: string, device: DeviceDetector): void {
    device.training = true;
    const rows = device.rows.slice(-this.config.trainRows);
    void WindowAutoencoder.train({
      modelId: `window-ae:${deviceId}`,
      features: [...this.config.metrics],
      rows: rows.map((r) => r.values),
      trainingRange: { fromMs: rows[0]!.endMs, toMs: rows[rows.length - 1]!.endMs, rows: rows.length },
      options: {
        windowLength: this.config.windowLength,
        epochs: this.config.epochs,
        thresholdFactor: this.config.thresholdFactor,
      },
    })
      .then(async (model) => {
        await model.save(this.modelDir(deviceId));
        device.model = model;
        this.logger.info(
          { deviceId, ...model.metadata.threshold, modelVersion: model.metadata.modelVersion },
          'model trained',
        );
      })
      .catch((error: unknown) =>
        this.logger.error({ err: error, deviceId }, 'training failed; retrying on later rows'),
      )
      .finally(() => (device.training = false));
  }

  private forecast(device: DeviceDetector, window: AssembledWindow): Forecast[] {
    const f = this.config.forecast;
    if (++device.rowsSinceForecast < f.everyRows || device.rows.length < Math.min(f.historyRows, 30))
      return [];
    device.rowsSinceForecast = 0;
    const history = device.rows.slice(-f.historyRows);
    return this.config.metrics.map((metric, i) => {
      const values = history.map((r) => r.values[i]!);
      const fit = fitHolt(values, { damped: f.damped });
      const points = holtForecast(fit, f.horizonRows, f.intervalLevel);
      const limits = this.config.limits[metric] ?? {};
      const risk = assessFailure(values[values.length - 1]!, points, limits);
      return {
        eventId: createHash('sha256')
          .update(`holt:${window.deviceId}:${metric}:${window.endMs}`)
          .digest('hex')
          .slice(0, 32),
        deviceId: window.deviceId,
        metric,
        timestampMs: window.endMs,
        points: points.map((p) => ({
          timestampMs: window.endMs + p.step * this.config.stepMs,
          value: p.value,
          lower: p.lower,
          upper: p.upper,
        })),
        intervalLevel: f.intervalLevel,
        limitLower: limits.lower ?? null,
        limitUpper: limits.upper ?? null,
        timeToFailureMs:
          risk.stepsToFailure === undefined ? null : Math.round(risk.stepsToFailure * this.config.stepMs),
        risk: risk.risk,
        confidence: risk.confidence ?? null,
        mase: fit.mase ?? null,
        modelId: f.damped ? 'holt-damped' : 'holt',
        modelVersion: '1',
      };
    });
  }

  private modelDir(deviceId: string): string {
    return join(this.config.modelDir, encodeURIComponent(deviceId));
  }
}
