import { EventCodec, type AvroSerde } from '@sentio/avro';
import { eventStreams, type TelemetrySample } from '@sentio/events';
import { progressReporter, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { DetectorsConfig } from '../detectors.config.js';
import type { StreamRow } from './device-stream.js';
import { RelatedDeviceStream } from './related-device-stream.js';
import { WindowAssembler } from './window-assembler.js';
import { RobustGroupModel } from '../models/robust-group-model.js';
import { WindowAutoencoder, type RowProjection } from '../models/window-autoencoder.js';

/** What a stored model records about the rows it saw; the scorer refuses models built differently. */
export function modelPreprocessing(config: DetectorsConfig): Record<string, number> {
  // The trend is recorded only when on, so models trained before it existed still match a config without it.
  return {
    baselineTauRows: config.baselineTauRows,
    stepMs: config.stepMs,
    ...(config.baselineTrendRows > 0
      ? {
          baselineTrendRows: config.baselineTrendRows,
          trendAlignment: config.trendAlignment,
          baselineClip: config.baselineClip,
        }
      : {}),
    ...(config.relationDirections > 0 ? { relationDirections: config.relationDirections } : {}),
  };
}

/**
 * Whether a stored model was built for the metrics, window and preprocessing configured: anything scoring
 * with a stored model (the running detectors, a replay's re-score) refuses one built differently, whose
 * rows would not mean what its weights learned.
 */
export function modelFitsConfig(model: WindowAutoencoder, config: DetectorsConfig): boolean {
  return (
    JSON.stringify(model.features) === JSON.stringify(config.metrics) &&
    model.windowLength === config.windowLength &&
    JSON.stringify(model.metadata.preprocessing ?? {}) === JSON.stringify(modelPreprocessing(config))
  );
}

/**
 * The load relation the autoencoder leaves out of its rows (with relationDirections > 0): learned from its
 * training rows by the group model's own fit, the relation the device's group model learns from the same
 * clean rows online. Without it a healthy load beyond the training rows' (demand rising for half an hour)
 * is a window the autoencoder never saw, and it extrapolates its other metrics badly.
 */
function loadRelation(rows: readonly StreamRow[], config: DetectorsConfig): RowProjection | undefined {
  if (config.relationDirections <= 0) return undefined;
  const group = RobustGroupModel.fit(
    config.metrics,
    rows.map((r) => r.residual),
    { relationDirections: config.relationDirections },
  );
  const { scale, correlation } = group.state;
  return { scale: [...scale], directions: (correlation.relations ?? []).map((u) => [...u]) };
}

/** Trains a device model the way the online detector does, on rows from its DeviceStream. */
export function trainDeviceModel(
  deviceId: string,
  rows: readonly StreamRow[],
  config: DetectorsConfig,
): Promise<WindowAutoencoder> {
  if (rows.length === 0) throw new Error(`no rows to train ${deviceId} on`);
  const projection = loadRelation(rows, config);
  return WindowAutoencoder.train({
    modelId: `window-ae:${deviceId}`,
    features: [...config.metrics],
    rows: rows.map((r) => r.residual),
    trainingRange: { fromMs: rows[0]!.endMs, toMs: rows[rows.length - 1]!.endMs, rows: rows.length },
    preprocessing: modelPreprocessing(config),
    ...(projection && { projection }),
    options: {
      windowLength: config.windowLength,
      epochs: config.epochs,
      thresholdFactor: config.thresholdFactor,
    },
  });
}

export interface ReplayOptions {
  kafka: Kafka;
  serde: AvroSerde;
  topic: string;
  deviceId: string;
  /** Event-time range [fromMs, toMs) of the rows to keep. */
  fromMs: number;
  toMs: number;
  config: DetectorsConfig;
  logger: Logger;
}

// Records are appended after their event time; this much producer clock skew is tolerated when seeking.
const SEEK_SLACK_MS = 5 * 60_000;

/**
 * Replays the telemetry topic from the log position of `fromMs` to its current end, without a committed
 * group, and returns one device's rows in the event-time range, resampled and baselined as the online
 * detector does (its group model's relations steering the baseline; see RelatedDeviceStream).
 */
export async function replayDeviceRows(options: ReplayOptions): Promise<StreamRow[]> {
  const { kafka, topic, deviceId, fromMs, toMs, config, logger } = options;
  const admin = kafka.admin();
  await admin.connect();
  const [starts, ends] = await Promise.all([
    admin.fetchTopicOffsetsByTimestamp(topic, fromMs - SEEK_SLACK_MS),
    admin.fetchTopicOffsets(topic),
  ]);
  await admin.disconnect();
  const remaining = new Map<number, number>();
  let total = 0;
  for (const end of ends) {
    const start = Number(starts.find((s) => s.partition === end.partition)?.offset ?? end.low);
    const startOffset = start < 0 ? Number(end.high) : start;
    if (Number(end.high) > startOffset) remaining.set(end.partition, Number(end.high));
    total += Math.max(0, Number(end.high) - startOffset);
  }
  const rows: StreamRow[] = [];
  if (remaining.size === 0) return rows;

  const codec = await EventCodec.register<TelemetrySample>(options.serde, eventStreams.telemetry, topic);
  const assembler = new WindowAssembler({ ...config, metrics: config.metrics });
  const stream = new RelatedDeviceStream(config);
  const progress = progressReporter(logger, `replay ${topic} for ${deviceId}`, total);
  const keep = (added: StreamRow[]) => rows.push(...added.filter((r) => r.endMs > fromMs && r.endMs <= toMs));
  const consumer = kafka.consumer({ groupId: `sentio-detect-train-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let finished!: () => void;
  const complete = new Promise<void>((resolve) => (finished = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      await codec.prepare(batch.messages.map((m) => m.value));
      for (const message of batch.messages) {
        const decoded = codec.decode(message.value);
        if (!decoded.ok || decoded.value.deviceId !== deviceId || decoded.value.quality === 'BAD') continue;
        for (const window of assembler.add(decoded.value)) keep(stream.push(window).added);
      }
      progress.advance(batch.messages.length);
      if (Number(batch.lastOffset()) + 1 >= (remaining.get(batch.partition) ?? Infinity))
        remaining.delete(batch.partition);
      if (remaining.size === 0) finished();
    },
  });
  for (const end of ends) {
    const start = starts.find((s) => s.partition === end.partition)?.offset;
    if (start !== undefined && Number(start) >= 0)
      consumer.seek({ topic, partition: end.partition, offset: start });
  }
  await complete;
  await consumer.disconnect();
  for (const window of assembler.flush(deviceId)) keep(stream.push(window).added);
  progress.done();
  return rows;
}

/**
 * Rows of a CSV series whose columns include every configured metric, baselined as the detector does (see
 * RelatedDeviceStream).
 */
export function csvDeviceRows(
  series: { features: string[]; timestampsMs: number[]; rows: number[][] },
  config: DetectorsConfig,
): StreamRow[] {
  const columns = config.metrics.map((m) => {
    const i = series.features.indexOf(m);
    if (i < 0) throw new Error(`the CSV has no column ${m} (it has ${series.features.join(', ')})`);
    return i;
  });
  const stream = new RelatedDeviceStream(config);
  return series.rows.flatMap(
    (row, r) =>
      stream.push({
        deviceId: 'csv',
        startMs: series.timestampsMs[r]!,
        endMs: series.timestampsMs[r]! + config.stepMs,
        rows: [columns.map((c) => row[c]!)],
      }).added,
  );
}
