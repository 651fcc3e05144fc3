import { createHash, randomBytes } from 'node:crypto';
import { AnomalyRescoresRepository, type RescoredAnomaly } from '@sentio/clickhouse';
import {
  assessFailure,
  fitHolt,
  holtForecast,
  modelFitsConfig,
  ModelStore,
  RelatedDeviceStream,
  WindowAssembler,
  type DetectorsConfig,
  type WindowAutoencoder,
} from '@sentio/detectors';
import type { Forecast, TelemetrySample } from '@sentio/events';
import type { StreamCodecs } from '@sentio/kafka';
import { progressReporter, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { ForecastRescoresRepository, RescoredForecast } from './forecast-rescores.repository.js';
import { offsetsForTime, watermarks } from './kafka-offsets.util.js';
import { readRange } from './kafka-range.util.js';

export interface RescoreRequest {
  /**
   * Which stored model of each device (ModelStore, `sentio detect models`) scores: `current`, `previous` (the
   * one before current), or a version id (or its prefix: versions are content hashes, one per device).
   */
  modelVersion: string;
  fromMs: number;
  toMs: number;
  devices?: readonly string[];
}

export interface RescoreResult {
  id: string;
  modelVersion: string;
  records: number;
  windows: number;
  anomalies: number;
  forecasts: number;
  devicesScored: string[];
  devicesWithoutModel: string[];
  seconds: number;
}

export interface RescoreDeps {
  kafka: Kafka;
  codecs: StreamCodecs;
  topic: string;
  rescores: AnomalyRescoresRepository;
  forecasts: ForecastRescoresRepository;
  config: DetectorsConfig;
  logger: Logger;
}

const INSERT_ROWS = 10_000;

/**
 * Re-scores a time range of telemetry with one stored model version per device, the way the running
 * detectors assemble and score windows (event-time steps, per-device baseline), and writes the anomalies to
 * `anomaly_rescores` tagged with the model version and the run's id: beside the live anomalies, never over
 * them. Forecasts are recomputed the live detector's way over the same resampled rows and written to
 * `forecast_rescores`, tagged the same (the forecaster itself has no stored versions: `model_id` names it). Differences from the live detector: no training (a device without that version is skipped) and no
 * alarm hold (the baseline follows every row), so a re-score of the live version can flag slightly
 * differently in long alarms. Deterministic event ids make a repeated run count once (ReplacingMergeTree).
 */
/**
 * The live detector's forecast rule (DetectorsService): every `everyRows` resampled rows, once `bucketRows`
 * rows have filled ten buckets, a Holt fit per metric over the bucket means and its risk against the limits.
 */
function forecastOf(
  config: DetectorsConfig,
  deviceId: string,
  h: { rows: Array<{ endMs: number; raw: number[] }>; since: number },
  endMs: number,
): Forecast[] {
  const f = config.forecast;
  const buckets = Math.floor(h.rows.length / f.bucketRows);
  if (++h.since < f.everyRows || buckets < 10) return [];
  h.since = 0;
  const recent = h.rows.slice(h.rows.length - buckets * f.bucketRows);
  const bucketMs = f.bucketRows * config.stepMs;
  const horizon = Math.ceil(f.horizonRows / f.bucketRows);
  return config.metrics.map((metric, i) => {
    const values = Array.from({ length: buckets }, (_, b) => {
      let sum = 0;
      for (let r = b * f.bucketRows; r < (b + 1) * f.bucketRows; r++) sum += recent[r]!.raw[i]!;
      return sum / f.bucketRows;
    });
    const fit = fitHolt(values, { damped: f.damped });
    const points = holtForecast(fit, horizon, f.intervalLevel);
    const limits = config.limits[metric] ?? {};
    const risk = assessFailure(values[values.length - 1]!, points, limits);
    return {
      eventId: '',
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
      timeToFailureMs: risk.stepsToFailure === undefined ? null : Math.round(risk.stepsToFailure * bucketMs),
      risk: risk.risk,
      confidence: risk.confidence ?? null,
      mase: fit.mase ?? null,
      modelId: f.damped ? 'holt-damped' : 'holt',
      modelVersion: '',
    };
  });
}

export async function rescoreDetectors(deps: RescoreDeps, request: RescoreRequest): Promise<RescoreResult> {
  const started = performance.now();
  const { config, logger } = deps;
  const id = randomBytes(4).toString('hex');
  const log = logger.child({ component: 'replay', rescore: id, modelVersion: request.modelVersion });
  const devices = request.devices && request.devices.length > 0 ? new Set(request.devices) : undefined;
  // Start early enough to fill the first window and the baseline; end late enough to close the last step.
  const warmMs = (config.windowLength + 1) * config.stepMs + config.allowedLatenessMs;
  const start = await offsetsForTime(deps.kafka, deps.topic, request.fromMs - warmMs);
  // The end is the end of the log, not offsets-for-times of `to`: record timestamps are produce times, and
  // history backfilled late (or a device's delayed buffer) has event times far before them.
  const end = (await watermarks(deps.kafka, deps.topic)).high;
  const codec = await deps.codecs.get('telemetry');
  const assembler = new WindowAssembler({
    metrics: config.metrics,
    stepMs: config.stepMs,
    windowLength: config.windowLength,
    allowedLatenessMs: config.allowedLatenessMs,
    maxFillSteps: config.maxFillSteps,
  });
  const store = new ModelStore(config.modelDir);
  const models = new Map<string, WindowAutoencoder | null>();
  const streams = new Map<string, RelatedDeviceStream>();
  const pending: RescoredAnomaly[] = [];
  const pendingForecasts: RescoredForecast[] = [];
  const history = new Map<string, { rows: Array<{ endMs: number; raw: number[] }>; since: number }>();
  let forecasts = 0;
  let chunk = 0;
  let records = 0;
  let windows = 0;
  let anomalies = 0;

  const stored = await store.list();
  const versionOf = async (deviceId: string): Promise<string | undefined> => {
    const mine = stored.filter((m) => m.deviceId === deviceId).map((m) => m.metadata.modelVersion);
    if (request.modelVersion === 'current') return store.currentVersion(deviceId);
    if (request.modelVersion === 'previous') {
      const current = await store.currentVersion(deviceId);
      const i = mine.indexOf(current ?? '');
      return i >= 0 ? mine[i + 1] : undefined;
    }
    return mine.find((v) => v.startsWith(request.modelVersion));
  };
  /**
   * The device's model of the requested version, if it has one built for the configured metrics, window and
   * preprocessing.
   */
  const loadFitting = async (deviceId: string): Promise<WindowAutoencoder | null> => {
    const version = await versionOf(deviceId);
    if (version === undefined) return null;
    const model = await store.load(deviceId, version).catch(() => null);
    if (!model) return null;
    if (modelFitsConfig(model, config)) return model;
    log.warn(
      { deviceId, features: model.features, preprocessing: model.metadata.preprocessing },
      'model does not fit the configured metrics, window or preprocessing',
    );
    model.dispose();
    return null;
  };
  const modelOf = async (deviceId: string): Promise<WindowAutoencoder | null> => {
    if (models.has(deviceId)) return models.get(deviceId)!;
    const model = await loadFitting(deviceId);
    models.set(deviceId, model);
    return model;
  };
  const flush = async (all: boolean) => {
    while (pending.length >= INSERT_ROWS || (all && pending.length > 0)) {
      const rows = pending.splice(0, INSERT_ROWS);
      await deps.rescores.insert(rows, `rescore-${id}-${chunk++}`);
    }
    while (pendingForecasts.length >= INSERT_ROWS || (all && pendingForecasts.length > 0)) {
      const rows = pendingForecasts.splice(0, INSERT_ROWS);
      await deps.forecasts.insert(rows, `rescore-forecasts-${id}-${chunk++}`);
    }
  };

  const total = [...end].reduce((n, [p, e]) => n + Math.max(0, Number(e - (start.get(p) ?? 0n))), 0);
  const progress = progressReporter(log, `re-score with model ${request.modelVersion}`, total);
  await readRange(deps.kafka, deps.topic, start, end, async (_partition, messages) => {
    const values = messages.map((m) => m.value);
    await codec.prepare(values);
    for (const value of values) {
      records++;
      const decoded = codec.decode(value);
      if (!decoded.ok) continue;
      const sample: TelemetrySample = decoded.value;
      if (sample.quality === 'BAD' || (devices && !devices.has(sample.deviceId))) continue;
      for (const window of assembler.add(sample)) {
        let stream = streams.get(window.deviceId);
        if (!stream) {
          stream = new RelatedDeviceStream(config);
          streams.set(window.deviceId, stream);
        }
        const next = stream.push(window);
        let h = history.get(window.deviceId);
        if (!h) history.set(window.deviceId, (h = { rows: [], since: 0 }));
        for (const row of next.added) {
          h.rows.push({ endMs: row.endMs, raw: row.raw });
          if (h.rows.length > config.forecast.historyRows) h.rows.shift();
          if (row.endMs <= request.fromMs || row.endMs > request.toMs) continue;
          const made = forecastOf(config, window.deviceId, h, row.endMs);
          if (made.length === 0) continue;
          const model = await modelOf(window.deviceId);
          if (!model) continue;
          for (const f of made) {
            const modelVersion = model.metadata.modelVersion;
            pendingForecasts.push({
              ...f,
              replayId: id,
              modelVersion,
              eventId: createHash('sha256')
                .update(`${f.modelId}:${modelVersion}:${f.deviceId}:${f.metric}:${f.timestampMs}`)
                .digest('hex')
                .slice(0, 32),
            });
            forecasts++;
          }
        }
        if (window.endMs <= request.fromMs || window.endMs > request.toMs) continue;
        const model = await modelOf(window.deviceId);
        if (!model) continue;
        windows++;
        const score = model.scoreWindow(next.rows);
        if (score.score <= model.threshold) continue;
        anomalies++;
        const { modelId, modelVersion } = model.metadata;
        pending.push({
          replayId: id,
          eventId: createHash('sha256')
            .update(`${modelId}:${modelVersion}:${window.endMs}`)
            .digest('hex')
            .slice(0, 32),
          deviceId: window.deviceId,
          assetId: window.deviceId,
          timestampMs: window.endMs,
          windowStartMs: window.startMs,
          windowEndMs: window.endMs,
          score: score.score,
          threshold: model.threshold,
          contributions: score.contributions
            .map((error, i) => ({ metric: config.metrics[i]!, error }))
            .sort((a, b) => b.error - a.error),
          modelId,
          modelVersion,
        });
      }
    }
    progress.advance(values.length);
    await flush(false);
  });
  await flush(true);
  progress.done();
  for (const model of models.values()) model?.dispose();
  const result: RescoreResult = {
    id,
    modelVersion: request.modelVersion,
    records,
    windows,
    anomalies,
    forecasts,
    devicesScored: [...models]
      .filter(([, m]) => m !== null)
      .map(([d]) => d)
      .sort(),
    devicesWithoutModel: [...models]
      .filter(([, m]) => m === null)
      .map(([d]) => d)
      .sort(),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  log.info(result, 're-score finished');
  return result;
}
