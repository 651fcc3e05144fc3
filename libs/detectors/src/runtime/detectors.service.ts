import { createHash } from 'node:crypto';
import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import type { EventCodec } from '@sentio/avro';
import type { Anomaly, Forecast, TelemetrySample } from '@sentio/events';
import {
  EVENT_TOPICS,
  EventProducer,
  StreamCodecs,
  StreamHandler,
  type EventTopics,
  type StreamBatch,
} from '@sentio/kafka';
import { counter, LOGGER, type HealthReport, type Logger } from '@sentio/observability';
import type { Message } from 'kafkajs';
import type { DetectorsConfig } from '../detectors.config.js';
import { DeviceStream, type StreamRow } from './device-stream.js';
import { modelPreprocessing, trainDeviceModel } from './device-training.js';
import { assessFailure, fitHolt, holtForecast } from '../forecasting/holt-forecaster.js';
import { ModelStore } from './model-store.js';
import { initTfBackend } from './tf-backend.js';
import { WindowAssembler, type AssembledWindow } from './window-assembler.js';
import { refitIfBetter } from '../models/group-refit.js';
import { RobustGroupModel, type GroupScore, type GroupScorer } from '../models/robust-group-model.js';
import { WindowAutoencoder } from '../models/window-autoencoder.js';

export const DETECTORS_CONFIG = Symbol('DetectorsConfig');

const scored = counter('sentio_detectors_windows_scored_total', 'Windows scored by a device model');
const flagged = counter('sentio_detectors_anomalies_total', 'Anomalies produced', ['model']);
const swapped = counter('sentio_detectors_model_swaps_total', 'Device models replaced by a newer version');

interface DeviceDetector {
  stream: DeviceStream;
  model: WindowAutoencoder | undefined;
  /** Rows gathered until there are enough to train the device's model. */
  training: StreamRow[];
  /** Raw rows for forecasting, newest last. */
  history: Array<{ endMs: number; raw: number[] }>;
  rowsSinceForecast: number;
  /** The autoencoder's verdicts on the device's latest windows (1: flagged), newest last. */
  recentFlags: number[];
  /**
   * The robust group model's row-by-row scorer over the same rows the autoencoder sees; fitted in
   * milliseconds on the device's first `trainRows` rows (again after a restart: it is not stored).
   */
  group: GroupScorer | undefined;
  groupModel: RobustGroupModel | undefined;
  groupTraining: number[][];
  /** The group model's verdict on the newest row. */
  groupLast: GroupScore | undefined;
  /** Rows since the group model was fitted, and since either member last alarmed. */
  groupRows: number;
  rowsSinceAlarm: number;
  /** The newest `groupRefitRows` rows, the candidate's material at the next scheduled refit. */
  groupRecent: number[][];
}

/**
 * Persistence (k of n windows) that turns a device's alarm into a sustained one: its baseline then holds
 * still until fewer than HOLD_K of its last HOLD_N windows are flagged. Scattered false alarms never reach
 * it, so healthy drift is still followed; a fault that keeps alarming is never absorbed.
 */
const HOLD_N = 20;
const HOLD_K = 10;

interface Codecs {
  anomalies: EventCodec<Anomaly>;
  forecasts: EventCodec<Forecast>;
}

/**
 * Consumes telemetry, resamples it per device into windows, and produces Anomaly events (a window
 * autoencoder per device over rows taken relative to a slow baseline, trained on the device's first
 * `trainRows` rows or by `sentio detect train`; beside it the robust group model over the same rows, each
 * member reporting under its own model id; plus a stuck-sensor rule) and Forecast events (Holt per
 * metric with time to failure against the configured limits). A batch's events and dead letters are
 * acknowledged by the broker before its offsets are committed; windows being assembled at a restart are
 * rebuilt from the next records. New model versions are swapped in between batches.
 */
@Injectable()
export class DetectorsService implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private codecs: Codecs | undefined;
  private readonly devices = new Map<string, DeviceDetector>();
  /** Models read at start, handed to each device on its first record. */
  private readonly preloaded = new Map<string, WindowAutoencoder>();
  private readonly assembler: WindowAssembler;
  private readonly store: ModelStore;
  private readonly logger: Logger;
  private readonly preprocessing: Record<string, number>;
  private lastModelCheck = Date.now();
  private reloadRequested = false;
  private readonly onHangup = () => {
    this.reloadRequested = true;
  };

  constructor(
    @Inject(DETECTORS_CONFIG) private readonly config: DetectorsConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(StreamCodecs) private readonly streamCodecs: StreamCodecs,
    @Inject(EventProducer) private readonly producer: EventProducer,
  ) {
    this.logger = logger.child({ component: 'detectors' });
    this.assembler = new WindowAssembler({
      metrics: config.metrics,
      stepMs: config.stepMs,
      windowLength: config.windowLength,
      allowedLatenessMs: config.allowedLatenessMs,
      maxFillSteps: config.maxFillSteps,
    });
    this.store = new ModelStore(config.modelDir);
    this.preprocessing = modelPreprocessing(config);
  }

  /**
   * Ready before the consumers start: the TF.js backend, the codecs of what this component produces, and
   * every device's current model, read up front and concurrently rather than on each device's first record.
   */
  async onModuleInit(): Promise<void> {
    await initTfBackend(this.logger);
    const started = performance.now();
    const stored = await this.store.loadAllCurrent(64, (deviceId, error) =>
      this.logger.error({ err: error, deviceId }, 'could not load the stored model; the device will retrain'),
    );
    for (const [deviceId, model] of stored) {
      if (this.fits(deviceId, model)) this.preloaded.set(deviceId, model);
      else model.dispose();
    }
    this.logger.info(
      { models: this.preloaded.size, seconds: (performance.now() - started) / 1000 },
      'stored models loaded',
    );
    this.codecs = {
      anomalies: await this.streamCodecs.get('anomalies'),
      forecasts: await this.streamCodecs.get('forecasts'),
    };
    process.on('SIGHUP', this.onHangup);
  }

  /**
   * A batch's anomalies and forecasts are acknowledged by the broker when this resolves; its dead letters
   * and its commit follow (commit mode `batch`).
   */
  @StreamHandler({
    streams: ['telemetry'],
    group: (self: DetectorsService) => self.config.groupId,
    component: 'detectors',
    health: (self: DetectorsService) => self.report(),
  })
  async detect(batch: StreamBatch<TelemetrySample>): Promise<void> {
    await this.reloadModelsIfDue();
    const out = await this.handle(batch, this.codecs!);
    await Promise.all([
      this.producer.send(this.topics.anomalies, out.anomalies),
      this.producer.send(this.topics.forecasts, out.forecasts),
    ]);
  }

  private report(): HealthReport {
    return {
      state: 'up',
      detail: {
        devices: this.devices.size,
        models: [...this.devices.values()].filter((d) => d.model).length,
        groupModels: [...this.devices.values()].filter((d) => d.group).length,
        ...this.assembler.stats,
      },
    };
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHangup);
  }

  /** After the consumer has left the group (it stops during onModuleDestroy): no batch uses the models now. */
  onApplicationShutdown(): void {
    for (const d of this.devices.values()) d.model?.dispose();
    for (const m of this.preloaded.values()) m.dispose();
  }

  private async handle(
    batch: StreamBatch<TelemetrySample>,
    codecs: Codecs,
  ): Promise<{ anomalies: Message[]; forecasts: Message[] }> {
    // Records that do not decode are dead-lettered by the stream consumer, before the commit.
    const records = await batch.decode();
    const out = { anomalies: [] as Message[], forecasts: [] as Message[] };
    const emit = (anomaly: Anomaly) =>
      out.anomalies.push({ key: anomaly.deviceId, value: codecs.anomalies.encode(anomaly) });
    for (const { value: sample } of records) {
      if (sample.quality === 'BAD') continue;
      for (const window of this.assembler.add(sample)) {
        const device = await this.device(window.deviceId);
        const next = device.stream.push(window);
        for (const row of next.added) {
          this.scoreGroup(window.deviceId, device, row.residual);
          device.history.push({ endMs: row.endMs, raw: row.raw });
          if (device.history.length > this.config.forecast.historyRows) device.history.shift();
          for (const forecast of this.forecast(window.deviceId, device, row.endMs))
            out.forecasts.push({ key: forecast.deviceId, value: codecs.forecasts.encode(forecast) });
        }
        const flat = this.flatline(window, next.flatRows);
        if (flat) emit(flat);
        this.emitGroup(window, device, emit);
        if (!device.model) {
          device.training.push(...next.added);
          if (device.training.length >= this.config.trainRows) {
            await batch.heartbeat();
            await this.train(window.deviceId, device);
            await batch.heartbeat();
          }
          continue;
        }
        // Scored as it arrives, not per batch: the verdict steers the device's baseline (hold) before its
        // next row, so results do not depend on how records were batched (replays repeat exactly).
        // The hold follows the autoencoder alone: it sees the fault's shape, where the group model's
        // 30-row means also rise with the healthy metrics' drift once the baseline holds.
        const flag = this.score(device.model, window, next.rows, emit);
        if (flag) device.rowsSinceAlarm = 0;
        device.recentFlags.push(flag);
        if (device.recentFlags.length > HOLD_N) device.recentFlags.shift();
        device.stream.hold = device.recentFlags.reduce((a, b) => a + b, 0) >= HOLD_K;
      }
    }
    return out;
  }

  /** Feeds one new row to the device's group model, fitting it once enough rows have come. */
  private scoreGroup(deviceId: string, device: DeviceDetector, residual: number[]): void {
    if (device.group) {
      device.groupLast = device.group.push(residual);
      if (device.groupLast.anomalous) device.rowsSinceAlarm = 0;
      else device.rowsSinceAlarm++;
      device.groupRows++;
      const every = this.config.groupRefitRows;
      if (every > 0) {
        device.groupRecent.push(residual);
        if (device.groupRecent.length > every) device.groupRecent.shift();
        if (device.groupRows >= every && device.rowsSinceAlarm >= every) this.refitGroup(deviceId, device);
      }
      return;
    }
    device.groupTraining.push(residual);
    if (device.groupTraining.length < this.config.trainRows) return;
    try {
      device.groupModel = RobustGroupModel.fit(this.config.metrics, device.groupTraining);
      device.group = device.groupModel.scorer();
      this.logger.info(
        { deviceId, modelVersion: device.groupModel.state.modelVersion, margin: device.groupModel.margin },
        'group model fitted',
      );
    } catch (error) {
      this.logger.error({ err: error, deviceId }, 'group model fit failed; retrying on later rows');
    }
    device.groupTraining = [];
  }

  /** Scheduled refit after a stretch without alarms, swapped in only when it validates (see refitIfBetter). */
  private refitGroup(deviceId: string, device: DeviceDetector): void {
    device.groupRows = 0;
    try {
      const decision = refitIfBetter(device.groupModel!, device.groupRecent);
      this.logger.info(
        {
          deviceId,
          from: device.groupModel!.state.modelVersion,
          to: decision.model.state.modelVersion,
          currentAlarms: decision.currentAlarms,
          candidateAlarms: decision.candidateAlarms,
          validationRows: decision.validationRows,
        },
        decision.swapped ? 'group model refitted and swapped in' : 'group model refit rejected; kept',
      );
      if (decision.swapped) {
        device.groupModel = decision.model;
        device.group = decision.model.scorer();
        // The new scorer's smoothing window starts from the newest rows, not from nothing.
        for (const row of device.groupRecent.slice(-decision.model.state.options.smoothRows))
          device.groupLast = device.group.push(row);
      }
    } catch (error) {
      this.logger.error({ err: error, deviceId }, 'group model refit failed; kept the model in use');
    }
  }

  /** The group model's anomaly for this window (its newest row), if it flags it. */
  private emitGroup(window: AssembledWindow, device: DeviceDetector, emit: (anomaly: Anomaly) => void): void {
    const last = device.groupLast;
    if (!last?.anomalous || !device.groupModel) return;
    flagged.inc({ model: 'robust-group' });
    emit(
      this.anomaly(
        window,
        `robust-group:${window.deviceId}`,
        device.groupModel.state.modelVersion,
        last.raw,
        device.groupModel.margin,
        last.contributions,
      ),
    );
  }

  private score(
    model: WindowAutoencoder,
    window: AssembledWindow,
    rows: number[][],
    emit: (anomaly: Anomaly) => void,
  ): number {
    const result = model.scoreWindow(rows);
    scored.inc();
    if (result.score <= model.threshold) return 0;
    const { modelId, modelVersion } = model.metadata;
    flagged.inc({ model: 'window-ae' });
    emit(this.anomaly(window, modelId, modelVersion, result.score, model.threshold, result.contributions));
    return 1;
  }

  /** A metric frozen on one exact value: the autoencoder cannot see it, since it does not predict noise. */
  private flatline(window: AssembledWindow, flatRows: number[]): Anomaly | undefined {
    const limit = this.config.flatRows;
    if (limit === 0 || !flatRows.some((n) => n >= limit)) return undefined;
    flagged.inc({ model: 'flatline' });
    const runs = flatRows.map((n) => n / limit);
    return this.anomaly(window, `flatline:${window.deviceId}`, '1', Math.max(...runs), 1, runs);
  }

  private anomaly(
    window: AssembledWindow,
    modelId: string,
    modelVersion: string,
    score: number,
    threshold: number,
    contributions: number[],
  ): Anomaly {
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
      score,
      threshold,
      contributions: contributions
        .map((error, i) => ({ metric: this.config.metrics[i]!, error }))
        .sort((a, b) => b.error - a.error),
      modelId,
      modelVersion,
    };
  }

  private async device(deviceId: string): Promise<DeviceDetector> {
    let device = this.devices.get(deviceId);
    if (!device) {
      device = {
        stream: new DeviceStream({
          stepMs: this.config.stepMs,
          windowLength: this.config.windowLength,
          baselineTauRows: this.config.baselineTauRows,
        }),
        model: this.takePreloaded(deviceId),
        training: [],
        history: [],
        rowsSinceForecast: 0,
        recentFlags: [],
        group: undefined,
        groupModel: undefined,
        groupTraining: [],
        groupLast: undefined,
        groupRows: 0,
        rowsSinceAlarm: 0,
        groupRecent: [],
      };
      this.devices.set(deviceId, device);
    }
    return device;
  }

  private takePreloaded(deviceId: string): WindowAutoencoder | undefined {
    const model = this.preloaded.get(deviceId);
    this.preloaded.delete(deviceId);
    return model;
  }

  /** The device's current stored model, if it was built for the metrics and preprocessing configured here. */
  private async loadCurrent(deviceId: string, unless?: string): Promise<WindowAutoencoder | undefined> {
    const version = await this.store.currentVersion(deviceId);
    if (version === undefined || version === unless) return undefined;
    const model = await this.store.load(deviceId, version);
    if (!this.fits(deviceId, model)) {
      model.dispose();
      return undefined;
    }
    this.logger.info({ deviceId, modelVersion: version }, 'model loaded');
    return model;
  }

  /** Whether a stored model was built for the metrics, window and preprocessing configured here. */
  private fits(deviceId: string, model: WindowAutoencoder): boolean {
    const fits =
      JSON.stringify(model.features) === JSON.stringify(this.config.metrics) &&
      model.windowLength === this.config.windowLength &&
      JSON.stringify(model.metadata.preprocessing ?? {}) === JSON.stringify(this.preprocessing);
    if (!fits)
      this.logger.warn(
        {
          deviceId,
          modelVersion: model.metadata.modelVersion,
          features: model.features,
          preprocessing: model.metadata.preprocessing,
        },
        'stored model does not match the configured metrics, window or preprocessing; not used',
      );
    return fits;
  }

  /** Swaps in models whose current version changed on disk (a retrain by `sentio detect train`). */
  private async reloadModelsIfDue(): Promise<void> {
    const every = this.config.modelCheckMs;
    if (!this.reloadRequested && (every === 0 || Date.now() - this.lastModelCheck < every)) return;
    this.reloadRequested = false;
    this.lastModelCheck = Date.now();
    for (const [deviceId, device] of this.devices) {
      try {
        const model = await this.loadCurrent(deviceId, device.model?.metadata.modelVersion);
        if (!model) continue;
        const previous = device.model?.metadata.modelVersion;
        device.model?.dispose();
        device.model = model;
        device.training = [];
        swapped.inc();
        this.logger.info({ deviceId, from: previous, to: model.metadata.modelVersion }, 'model swapped');
      } catch (error) {
        this.logger.error({ err: error, deviceId }, 'could not load the new model; keeping the old one');
      }
    }
  }

  /**
   * Trains in line, holding this partition for a second or two once per device: every window after the
   * training rows is then scored, whatever the consumer's speed, which keeps replays deterministic.
   */
  private async train(deviceId: string, device: DeviceDetector): Promise<void> {
    const rows = device.training.slice(-this.config.trainRows);
    try {
      const model = await trainDeviceModel(deviceId, rows, this.config);
      await this.store.save(deviceId, model);
      device.model = model;
      device.training = [];
      this.logger.info(
        { deviceId, ...model.metadata.threshold, modelVersion: model.metadata.modelVersion },
        'model trained',
      );
    } catch (error) {
      // Kept rows roll on: the next attempt trains on the newest ones.
      device.training = rows.slice(Math.floor(rows.length / 2));
      this.logger.error({ err: error, deviceId }, 'training failed; retrying on later rows');
    }
  }

  private forecast(deviceId: string, device: DeviceDetector, endMs: number): Forecast[] {
    const f = this.config.forecast;
    // Buckets end at the newest row, so each forecast starts from the latest data.
    const buckets = Math.floor(device.history.length / f.bucketRows);
    if (++device.rowsSinceForecast < f.everyRows || buckets < 10) return [];
    device.rowsSinceForecast = 0;
    const recent = device.history.slice(device.history.length - buckets * f.bucketRows);
    const bucketMs = f.bucketRows * this.config.stepMs;
    const horizon = Math.ceil(f.horizonRows / f.bucketRows);
    return this.config.metrics.map((metric, i) => {
      const values = Array.from({ length: buckets }, (_, b) => {
        let sum = 0;
        for (let r = b * f.bucketRows; r < (b + 1) * f.bucketRows; r++) sum += recent[r]!.raw[i]!;
        return sum / f.bucketRows;
      });
      const fit = fitHolt(values, { damped: f.damped });
      const points = holtForecast(fit, horizon, f.intervalLevel);
      const limits = this.config.limits[metric] ?? {};
      const risk = assessFailure(values[values.length - 1]!, points, limits);
      return {
        eventId: createHash('sha256')
          .update(`holt:${deviceId}:${metric}:${endMs}`)
          .digest('hex')
          .slice(0, 32),
        deviceId,
        metric,
        timestampMs: endMs,
        points: points.map((p) => ({
          timestampMs: endMs + p.step * bucketMs,
          value: p.value,
          lower: p.lower,
          upper: p.upper,
        })),
        intervalLevel: f.intervalLevel,
        limitLower: limits.lower ?? null,
        limitUpper: limits.upper ?? null,
        timeToFailureMs:
          risk.stepsToFailure === undefined ? null : Math.round(risk.stepsToFailure * bucketMs),
        risk: risk.risk,
        confidence: risk.confidence ?? null,
        mase: fit.mase ?? null,
        modelId: f.damped ? 'holt-damped' : 'holt',
        modelVersion: '1',
      };
    });
  }
}
