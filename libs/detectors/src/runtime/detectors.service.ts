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
  KAFKA,
  StreamCodecs,
  StreamHandler,
  type DecodedRecord,
  type EventTopics,
  type StreamBatch,
} from '@sentio/kafka';
import { counter, LOGGER, type HealthReport, type Logger } from '@sentio/observability';
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import type { DetectorsConfig } from '../detectors.config.js';
import { baselineRelations } from './baseline-relations.js';
import type { DeviceStream, StreamRow } from './device-stream.js';
import { deviceStream, groupLifecycleOptions } from './related-device-stream.js';
import { modelFitsConfig, trainDeviceModel } from './device-training.js';
import { assessFailure } from '../forecasting/holt-forecaster.js';
import { forecastMetric, forecastPoints, METRIC_FORECASTER_ID } from '../forecasting/metric-forecaster.js';
import { ModelStore, type StoredCurrent } from './model-store.js';
import { PartitionOwnership } from './partition-ownership.js';
import { offsetAtTime, replayPartition } from './partition-replay.js';
import { initTfBackend } from './tf-backend.js';
import { WindowAssembler, type AssembledWindow } from './window-assembler.js';
import { assetAnomaly, AssetGroups, type AssetRow } from './asset-grouping/asset-groups.js';
import { retrainAutoencoderIfBetter } from './retraining/autoencoder-retrain.js';
import {
  GroupLifecycle,
  type GroupLifecycleOptions,
  type LifecycleEvent,
} from './retraining/group-lifecycle.js';
import { WindowAutoencoder } from '../models/window-autoencoder.js';

export const DETECTORS_CONFIG = Symbol('DetectorsConfig');

const scored = counter('sentio_detectors_windows_scored_total', 'Windows scored by a device model');
const flagged = counter('sentio_detectors_anomalies_total', 'Anomalies produced', ['model']);
const swapped = counter('sentio_detectors_model_swaps_total', 'Device models replaced by a newer version');
const rebuilds = counter(
  'sentio_detectors_partition_rebuilds_total',
  'Telemetry partitions whose window state was rebuilt from their recent records on taking them over',
);

interface DeviceDetector {
  stream: DeviceStream;
  model: WindowAutoencoder | undefined;
  /** Rows gathered until there are enough to train the device's model. */
  training: StreamRow[];
  /** Raw rows for forecasting, newest last. */
  history: Array<{ endMs: number; raw: number[] }>;
  /** The autoencoder's verdicts on the device's latest windows (1: flagged), newest last. */
  recentFlags: number[];
  /**
   * The robust group model over the same rows the autoencoder sees, through its life: cold-start fits from
   * the device's first minutes, the full fit, scheduled and drift-triggered refits validated before the
   * swap (not stored: rebuilt after a restart). Its clean rows are what the autoencoder trains on.
   */
  group: GroupLifecycle<StreamRow>;
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
  private readonly preloaded = new Map<string, StoredCurrent>();
  /** The telemetry partitions this process owns, their devices, and which still need their state rebuilt. */
  private readonly ownership = new PartitionOwnership();
  private readonly assembler: WindowAssembler;
  private readonly store: ModelStore;
  /** How every device's (and asset's) group model is fitted and retrained. */
  private readonly lifecycle: Omit<GroupLifecycleOptions, 'features'>;
  private readonly assets: AssetGroups;
  private readonly logger: Logger;
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
    @Inject(KAFKA) private readonly kafka: Kafka,
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
    this.lifecycle = groupLifecycleOptions(config);
    this.assets = new AssetGroups({
      metrics: config.metrics,
      stepMs: config.stepMs,
      lifecycle: this.lifecycle,
      maxWaitRows: config.maxFillSteps + Math.ceil(config.allowedLatenessMs / config.stepMs) + 1,
    });
  }

  /**
   * Ready before the consumers start: the TF.js backend, the codecs of what this component produces, and
   * every device's current model, read up front and concurrently rather than on each device's first record.
   */
  async onModuleInit(): Promise<void> {
    await initTfBackend(this.logger);
    const started = performance.now();
    const stored = this.store.loadAllCurrent(
      (deviceId, error) =>
        this.logger.error(
          { err: error, deviceId },
          'could not load the stored model; the device will retrain',
        ),
      (loaded, total) => this.logger.info({ loaded, total }, 'loading stored models'),
    );
    // Deserialised, and checked against the configured metrics, on each device's first record.
    for (const [deviceId, model] of stored) this.preloaded.set(deviceId, model);
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
   * and its commit follow (commit mode `batch`). Several detector processes share the partitions by their
   * group: a partition newly owned is rebuilt first (`rebuild`), so each window is scored by exactly one
   * owner, the one that reads the record completing it after the last commit.
   */
  @StreamHandler({
    streams: ['telemetry'],
    group: (self: DetectorsService) => self.config.groupId,
    component: 'detectors',
    health: (self: DetectorsService) => self.report(),
    onAssignment: (self: DetectorsService, assigned) => self.assigned(assigned),
  })
  async detect(batch: StreamBatch<TelemetrySample>): Promise<void> {
    await this.reloadModelsIfDue();
    if (this.ownership.needsRebuild(batch.partition)) await this.rebuild(batch);
    const records = await batch.decode();
    try {
      const out = await this.handle(batch.partition, records, {
        replay: false,
        heartbeat: () => batch.heartbeat(),
      });
      await Promise.all([
        this.producer.send(this.topics.anomalies, out.anomalies),
        this.producer.send(this.topics.forecasts, out.forecasts),
      ]);
    } catch (error) {
      // Windows of this batch are in state but their results may not be with the broker: the records
      // come again from the committed offset, onto state rebuilt as it stood there.
      this.ownership.invalidate(batch.partition);
      throw error;
    }
    // Lost in a rebalance while this batch ran: what it built is stale for the next time it comes back.
    if (!this.ownership.owns(batch.partition)) this.release(batch.partition);
  }

  /** The group's new assignment: state of lost partitions is released, gained ones rebuild on first batch. */
  private assigned(assigned: ReadonlyArray<{ topic: string; partition: number }>): void {
    const telemetry = assigned.filter((a) => a.topic === this.topics.telemetry).map((a) => a.partition);
    const { revoked, added } = this.ownership.assign(telemetry);
    for (const partition of revoked) this.release(partition);
    this.logger.info(
      { partitions: this.ownership.stats.partitions, revoked, added },
      'telemetry partitions assigned',
    );
  }

  /** Drops the window state of a partition's devices; their models stay in memory in case it comes back. */
  private release(partition: number): void {
    for (const deviceId of this.ownership.release(partition)) {
      const device = this.devices.get(deviceId);
      this.devices.delete(deviceId);
      this.assembler.forget(deviceId);
      const model = device?.model;
      if (model) this.preloaded.set(deviceId, { version: model.metadata.modelVersion, open: () => model });
    }
  }

  /**
   * Rebuilds the state of a partition just taken over, before its first record is scored: its records of
   * the last `rebuildMs` (log time) before the committed offset run through window assembly, the device
   * streams and the models exactly as in scoring, but nothing is emitted and nothing is trained. Windows
   * those records completed were the previous owner's (it committed past them); the window state at the
   * committed offset is then the previous owner's, so the next window is the first this owner scores.
   */
  private async rebuild(batch: StreamBatch<TelemetrySample>): Promise<void> {
    const { topic, partition } = batch;
    const started = performance.now();
    // Whatever an interrupted rebuild or an earlier ownership left is not the state at this offset.
    this.release(partition);
    const first = batch.messages[0]!;
    const to = BigInt(first.offset);
    const from = await offsetAtTime(
      this.kafka,
      topic,
      partition,
      // Log time can be missing (-1, an old producer): then the whole partition, rather than skip windows.
      Math.max(0, Number(first.timestamp) - this.config.rebuildMs),
    );
    const replayed = await replayPartition(
      this.kafka,
      { topic, partition, from, to },
      async (messages: KafkaMessage[]) => {
        await batch.codec.prepare(messages.map((m) => m.value));
        const records: Array<DecodedRecord<TelemetrySample>> = [];
        // Undecodable records were dead-lettered by the owner that committed past them.
        for (const message of messages) {
          const decoded = batch.codec.decode(message.value);
          if (decoded.ok) records.push({ message, value: decoded.value });
        }
        await this.handle(partition, records, { replay: true, heartbeat: () => batch.heartbeat() });
      },
      () => batch.heartbeat(),
      this.logger,
    );
    this.ownership.rebuilt(partition);
    rebuilds.inc();
    this.logger.info(
      {
        partition,
        fromOffset: String(from),
        toOffset: String(to),
        records: replayed,
        devices: this.ownership.deviceCount(partition),
        seconds: (performance.now() - started) / 1000,
      },
      'partition state rebuilt from its recent records',
    );
  }

  private report(): HealthReport {
    return {
      state: 'up',
      detail: {
        devices: this.devices.size,
        models: [...this.devices.values()].filter((d) => d.model).length,
        groupModels: [...this.devices.values()].filter((d) => d.group.model).length,
        coldStart: [...this.devices.values()].filter((d) => d.group.coldStart).length,
        assets: this.assets.groups.length,
        ...this.assembler.stats,
        ...this.ownership.stats,
      },
    };
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHangup);
  }

  /** After the consumer has left the group (it stops during onModuleDestroy): no batch uses the models now. */
  onApplicationShutdown(): void {
    for (const d of this.devices.values()) d.model?.dispose();
    // Models put back on release are open; the others were never deserialised (nothing to dispose).
  }

  /**
   * Takes one partition's records into state. In `replay` (a rebuild) nothing is emitted, forecast or
   * trained: the windows it completes were scored by the partition's previous owner.
   */
  private async handle(
    partition: number,
    records: Array<DecodedRecord<TelemetrySample>>,
    mode: { replay: boolean; heartbeat: () => Promise<void> },
  ): Promise<{ anomalies: Message[]; forecasts: Message[] }> {
    const codecs = this.codecs!;
    const out = { anomalies: [] as Message[], forecasts: [] as Message[] };
    const emit = mode.replay
      ? () => undefined
      : (anomaly: Anomaly) =>
          out.anomalies.push({ key: anomaly.deviceId, value: codecs.anomalies.encode(anomaly) });
    // Handed over again after a rebalance whose commit did not land: already in this process's state.
    for (let r = this.ownership.firstNew(partition, records); r < records.length; r++) {
      const sample = records[r]!.value;
      if (sample.quality === 'BAD') continue;
      if (this.config.assetLabel) this.assets.assign(sample.deviceId, sample.labels[this.config.assetLabel]);
      for (const window of this.assembler.add(sample)) {
        // Known devices without an await: this runs once per window, 10,000 times a second at full load.
        const device = this.devices.get(window.deviceId) ?? (await this.device(window.deviceId, partition));
        const next = device.stream.push(window);
        for (const row of next.added) {
          const event = device.group.push(row.residual, row);
          if (event) {
            // The baseline follows a trend only along what the device's group model now knows as normal.
            if (event.kind !== 'error' && device.group.model)
              device.stream.relations = baselineRelations(device.group.model);
            this.logLifecycle({ deviceId: window.deviceId }, event);
            if (event.kind === 'refit' && !mode.replay)
              await this.retrainAutoencoder(window.deviceId, device, event, mode);
          }
          for (const assetRow of this.assets.push(window.deviceId, row.endMs, row.residual))
            this.emitAsset(assetRow, emit);
          device.history.push({ endMs: row.endMs, raw: row.raw });
          if (device.history.length > this.config.forecast.historyRows) device.history.shift();
          if (mode.replay) continue;
          for (const forecast of this.forecast(window.deviceId, device, row.endMs))
            out.forecasts.push({ key: forecast.deviceId, value: codecs.forecasts.encode(forecast) });
        }
        const flat = this.flatline(window, next.flatRows);
        if (flat) emit(flat);
        this.emitGroup(window, device, emit);
        // The autoencoder trains on rows its group model found clean (30 rows on without an alarm).
        const clean = device.group.takeClean();
        if (!device.model) {
          device.training.push(...clean);
          // Until the autoencoder exists, the group model's alarms hold the baseline (cold start), so a
          // fault in a new device's first minutes stays flagged (measured: 91 % of its rows, 68 % without).
          this.hold(device, device.group.last?.anomalous ? 1 : 0);
          if (!mode.replay && device.training.length >= this.config.trainRows) {
            await mode.heartbeat();
            await this.train(window.deviceId, device);
            await mode.heartbeat();
          }
          continue;
        }
        // Scored as it arrives, not per batch: the verdict steers the device's baseline (hold) before its
        // next row, so results do not depend on how records were batched (replays repeat exactly).
        // The hold follows the autoencoder alone: it sees the fault's shape, where the group model's
        // 30-row means also rise with the healthy metrics' drift once the baseline holds.
        const flag = this.score(device.model, window, next.rows, emit, mode.replay);
        if (flag) device.group.rowsSinceAlarm = 0;
        this.hold(device, flag);
      }
    }
    if (records.length > 0) this.ownership.advance(partition, records[records.length - 1]!.message.offset);
    return out;
  }

  /** Persistence (k of n): the device's baseline holds still while HOLD_K of its last HOLD_N verdicts alarm. */
  private hold(device: DeviceDetector, flag: number): void {
    device.recentFlags.push(flag);
    if (device.recentFlags.length > HOLD_N) device.recentFlags.shift();
    device.stream.hold = device.recentFlags.reduce((a, b) => a + b, 0) >= HOLD_K;
  }

  /** Logs what a device's or an asset's group lifecycle did: a fit, a validated refit, or a failure. */
  private logLifecycle(subject: { deviceId: string } | { assetId: string }, event: LifecycleEvent): void {
    if (event.kind === 'fit') {
      this.logger.info(
        {
          ...subject,
          stage: event.stage,
          rows: event.rows,
          modelVersion: event.modelVersion,
          margin: event.margin,
        },
        'group model fitted',
      );
    } else if (event.kind === 'refit') {
      const d = event.decision;
      this.logger.info(
        {
          ...subject,
          reason: event.reason,
          ...(event.drift ?? {}),
          from: event.from,
          to: d.model.state.modelVersion,
          currentAlarms: d.currentAlarms,
          candidateAlarms: d.candidateAlarms,
          currentDetection: d.current.meanDetection,
          candidateDetection: d.candidate.meanDetection,
          validationRows: d.validationRows,
        },
        d.swapped ? 'group model refitted and swapped in' : 'group model refit rejected; kept',
      );
    } else {
      this.logger.error(
        { ...subject, err: event.error },
        event.during === 'fit'
          ? 'group model fit failed; retrying on later rows'
          : 'group model refit failed; kept',
      );
    }
  }

  /**
   * When the group model is retrained (on schedule or on drift, over a stretch where neither member
   * alarmed), the autoencoder is retrained on the same rows and swapped in, stored as a new version, only if
   * it validates against the one in use (see retrainAutoencoderIfBetter). Trains in line, like the first
   * training, so replays stay deterministic.
   */
  private async retrainAutoencoder(
    deviceId: string,
    device: DeviceDetector,
    event: Extract<LifecycleEvent, { kind: 'refit' }>,
    mode: { heartbeat: () => Promise<void> },
  ): Promise<void> {
    const current = device.model;
    if (!current || !this.config.retrainAutoencoder) return;
    const rows = device.group.recentItems(event.decision.validationRows * 4);
    await mode.heartbeat();
    try {
      const decision = await retrainAutoencoderIfBetter(deviceId, current, rows, this.config);
      this.logger.info(
        {
          deviceId,
          reason: event.reason,
          from: current.metadata.modelVersion,
          to: decision.model.metadata.modelVersion,
          current: decision.current,
          candidate: decision.candidate,
          validationRows: decision.validationRows,
        },
        decision.swapped ? 'model retrained and swapped in' : 'model retrain rejected; kept',
      );
      if (decision.swapped) {
        await this.store.save(deviceId, decision.model);
        device.model = decision.model;
        current.dispose();
        swapped.inc();
      }
    } catch (error) {
      this.logger.error({ err: error, deviceId }, 'model retrain failed; kept the model in use');
    }
    await mode.heartbeat();
  }

  /** An asset row's lifecycle events and, when it alarms, its anomaly. */
  private emitAsset(row: AssetRow, emit: (anomaly: Anomaly) => void): void {
    if (row.event) this.logLifecycle({ assetId: row.assetId }, row.event);
    const anomaly = assetAnomaly(row, this.config.stepMs);
    if (!anomaly) return;
    flagged.inc({ model: 'asset-group' });
    emit(anomaly);
  }

  /** The group model's anomaly for this window (its newest row), if it flags it. */
  private emitGroup(window: AssembledWindow, device: DeviceDetector, emit: (anomaly: Anomaly) => void): void {
    const last = device.group.last;
    const model = device.group.model;
    if (!last?.anomalous || !model) return;
    flagged.inc({ model: 'robust-group' });
    emit(
      this.anomaly(
        window,
        `robust-group:${window.deviceId}`,
        model.state.modelVersion,
        last.raw,
        model.margin,
        last.contributions,
      ),
    );
  }

  private score(
    model: WindowAutoencoder,
    window: AssembledWindow,
    rows: number[][],
    emit: (anomaly: Anomaly) => void,
    replay: boolean,
  ): number {
    const result = model.scoreWindow(rows);
    if (!replay) scored.inc();
    if (result.score <= model.threshold) return 0;
    if (replay) return 1;
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

  private async device(deviceId: string, partition: number): Promise<DeviceDetector> {
    let device = this.devices.get(deviceId);
    if (!device) {
      this.ownership.seen(partition, deviceId);
      const model = await this.currentModel(deviceId);
      // Another window of the device may have been created while the model was read.
      const raced = this.devices.get(deviceId);
      if (raced) return raced;
      const stream = deviceStream(this.config);
      device = {
        stream,
        model,
        training: [],
        history: [],
        recentFlags: [],
        group: new GroupLifecycle<StreamRow>({ features: this.config.metrics, ...this.lifecycle }),
      };
      this.devices.set(deviceId, device);
    }
    return device;
  }

  /**
   * The model a device starts with here: its current version in the shared store, taken from the models
   * read at start when it is the same version. Checked on every takeover, because another process may have
   * trained or swapped in a version since: both owners of a partition must score with the same version
   * (an anomaly's id includes it, which is how a window re-scored after a takeover deduplicates).
   */
  private async currentModel(deviceId: string): Promise<WindowAutoencoder | undefined> {
    const preloaded = this.preloaded.get(deviceId);
    this.preloaded.delete(deviceId);
    try {
      const version = this.store.currentVersionSync(deviceId);
      if (preloaded && preloaded.version === version) {
        const model = preloaded.open();
        if (this.fits(deviceId, model)) return model;
        model.dispose();
        return undefined;
      }
      return version === undefined ? undefined : await this.loadCurrent(deviceId);
    } catch (error) {
      this.logger.error({ err: error, deviceId }, 'could not read the stored model; the device will retrain');
      return undefined;
    }
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
    const fits = modelFitsConfig(model, this.config);
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
    // On event-time multiples of everyRows steps: whichever process owns the device forecasts at the same rows.
    if (Math.round(endMs / this.config.stepMs) % f.everyRows !== 0 || buckets < 10) return [];
    const recent = device.history.slice(device.history.length - buckets * f.bucketRows);
    const bucketMs = f.bucketRows * this.config.stepMs;
    const horizon = Math.ceil(f.horizonRows / f.bucketRows);
    return this.config.metrics.flatMap((metric, i) => {
      // The forecaster `detect forecast` measures: level, a damped trend only where the history supports it,
      // conformal intervals; time to failure reads the same points. Missing readings are left out; a
      // metric without three buckets of readings gets no forecast.
      const raw = recent.map((r) => r.raw[i]!);
      if (raw.filter((v) => Number.isFinite(v)).length < 3 * f.bucketRows) return [];
      const fc = forecastMetric(raw, horizon, [f.intervalLevel], { bucketRows: f.bucketRows });
      const points = forecastPoints(fc, f.intervalLevel);
      const limits = this.config.limits[metric] ?? {};
      const risk = assessFailure(fc.history[fc.history.length - 1]!, points, limits);
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
        mase: fc.mase ?? null,
        modelId: METRIC_FORECASTER_ID,
        modelVersion: '1',
      } satisfies Forecast;
    });
  }
}
