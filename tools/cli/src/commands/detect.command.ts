import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { AvroSerde, avroConfigSection } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import {
  csvDeviceRows,
  detectorsConfigSection,
  evaluateCsvFiles,
  initTfBackend,
  listCsvFiles,
  ModelStore,
  readCsvSeries,
  replayDeviceRows,
  trainDeviceModel,
  type EvaluationResult,
  type ScoredRow,
} from '@sentio/detectors';
import { createKafka, eventTopics, kafkaConfigSection } from '@sentio/kafka';
import { createLogger } from '@sentio/observability';
import type { Command } from './command.type.js';

/** Published SKAB leaderboard rows (upstream README, 2024-08) that this detector is compared with. */
const leaderboard = [
  { method: 'Conv-AE', f1: 0.78, far: 13.55, mar: 28.02, nab: undefined },
  { method: 'LSTM-AE', f1: 0.74, far: 29.96, mar: 25.92, nab: undefined },
  { method: 'MSCRED', f1: undefined, far: undefined, mar: undefined, nab: 32.42 },
] as const;

const options = {
  csv: { type: 'string' },
  'timestamp-col': { type: 'string', default: 'datetime' },
  'label-col': { type: 'string', default: 'anomaly' },
  'changepoint-col': { type: 'string', default: 'changepoint' },
  'train-rows': { type: 'string', default: '400' },
  sep: { type: 'string' },
  out: { type: 'string' },
  window: { type: 'string' },
  epochs: { type: 'string' },
  'threshold-quantile': { type: 'string' },
  'threshold-factor': { type: 'string' },
  'calibration-rows': { type: 'string' },
  seed: { type: 'string' },
  'nab-window-s': { type: 'string', default: '60' },
} as const;

export const detectCommand: Command = {
  name: 'detect',
  summary:
    'Evaluate the window-autoencoder anomaly detector on CSV time series (train on the first rows, score the rest).',
  usage:
    'evaluate --csv <file|folder> [--timestamp-col datetime] [--label-col anomaly] [--changepoint-col changepoint] ' +
    '[--train-rows 400] [--sep ;] [--out scores.csv] [--window 10] [--epochs 40] [--threshold-quantile 0.99] ' +
    '[--threshold-factor 1.5] [--calibration-rows 0] [--seed 42] [--nab-window-s 60]\n' +
    '       sentio detect skab [--csv <SKAB data folder>] [same options]: the SKAB protocol beside the leaderboard\n' +
    '       sentio detect models: the stored device models (detectors.modelDir), current version marked *\n' +
    '       sentio detect train --device <id> (--csv <file> | --from <time> [--to <time>]): train a device model\n' +
    '         from a CSV with one column per configured metric, or from a replay of the telemetry topic; the\n' +
    '         new version becomes current and running detectors swap it in (within modelCheckMs, or on SIGHUP)',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === 'models') return listModels();
    if (sub === 'train') return train(rest);
    if (sub !== 'evaluate' && sub !== 'skab')
      throw new Error('expected a subcommand: evaluate, skab, models or train');
    const { values } = parseArgs({ args: rest, options });
    const csv =
      values.csv ?? (sub === 'skab' ? (process.env['SKAB_DIR'] ?? '/work/shared/data/skab') : undefined);
    if (!csv) throw new Error('--csv <file or folder> is required');
    let files = await listCsvFiles(csv);
    // SKAB's protocol leaves out the anomaly-free recording: it has no labels to score.
    if (sub === 'skab') files = files.filter((f) => !f.includes('anomaly-free'));
    if (files.length === 0) throw new Error(`no .csv files under ${csv}`);

    const logger = createLogger('detect');
    await initTfBackend(logger);
    const out = values.out ? createWriteStream(values.out) : undefined;
    out?.write('file,timestamp,score,threshold,predicted,label,changepoint,top_feature\n');
    const result = await evaluateCsvFiles(
      files,
      {
        csv: {
          timestampColumn: values['timestamp-col'],
          labelColumn: values['label-col'],
          changepointColumn: values['changepoint-col'],
          separator: values.sep,
        },
        trainRows: positiveInt(values['train-rows'], '--train-rows'),
        nabWindowMs: positiveNumber(values['nab-window-s'], '--nab-window-s') * 1000,
        autoencoder: {
          ...(values.window && { windowLength: positiveInt(values.window, '--window') }),
          ...(values.epochs && { epochs: positiveInt(values.epochs, '--epochs') }),
          ...(values['threshold-quantile'] && {
            thresholdQuantile: fraction(values['threshold-quantile'], '--threshold-quantile'),
          }),
          ...(values['threshold-factor'] && {
            thresholdFactor: positiveNumber(values['threshold-factor'], '--threshold-factor'),
          }),
          ...(values['calibration-rows'] && {
            calibrationRows: nonNegativeInt(values['calibration-rows'], '--calibration-rows'),
          }),
          ...(values.seed && { seed: positiveInt(values.seed, '--seed') }),
        },
      },
      logger,
      async (rows) => {
        if (out && !out.write(rows.map((r) => csvLine(r, csv)).join(''))) await once(out, 'drain');
      },
    );
    if (out) {
      out.end();
      await once(out, 'finish');
    }
    process.stdout.write(report(result, files.length, sub === 'skab'));
    return 0;
  },
};

async function listModels(): Promise<number> {
  const config = loadConfig([detectorsConfigSection]).detectors;
  const models = await new ModelStore(config.modelDir).list();
  if (models.length === 0) {
    process.stdout.write(`no models under ${config.modelDir}\n`);
    return 0;
  }
  const rows = models.map(({ deviceId, metadata: m, current }) => [
    current ? '*' : ' ',
    deviceId,
    m.modelVersion,
    m.createdAt,
    `${new Date(m.trainingRange.fromMs).toISOString()} .. ${new Date(m.trainingRange.toMs).toISOString()}`,
    String(m.trainingRange.rows),
    m.threshold.value.toPrecision(4),
    m.metrics.finalLoss.toPrecision(4),
    m.dataHash.slice(0, 12),
  ]);
  const header = ['', 'device', 'version', 'created', 'training range', 'rows', 'threshold', 'loss', 'data'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write([line(header), ...rows.map(line), ''].join('\n'));
  return 0;
}

const trainOptions = {
  device: { type: 'string' },
  csv: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'timestamp-col': { type: 'string', default: 'datetime' },
  sep: { type: 'string' },
} as const;

async function train(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: trainOptions });
  const deviceId = values.device;
  if (!deviceId) throw new Error('--device <id> is required');
  if (Boolean(values.csv) === Boolean(values.from))
    throw new Error('give either --csv <file> or --from <time>');
  const config = loadConfig([detectorsConfigSection, kafkaConfigSection, avroConfigSection]);
  const logger = createLogger('detect');
  await initTfBackend(logger);
  const rows = values.csv
    ? csvDeviceRows(
        await readCsvSeries(values.csv, {
          timestampColumn: values['timestamp-col'],
          labelColumn: 'anomaly',
          changepointColumn: 'changepoint',
          separator: values.sep,
        }),
        config.detectors,
      )
    : await replayDeviceRows({
        kafka: createKafka(config.kafka, logger, 'sentio-detect-train'),
        serde: AvroSerde.forUrl(config.avro.registryUrl),
        topic: eventTopics(config.kafka.namespace).telemetry,
        deviceId,
        fromMs: instant(values.from!),
        toMs: values.to ? instant(values.to) : Date.now(),
        config: config.detectors,
        logger,
      });
  logger.info({ deviceId, rows: rows.length }, 'training');
  const model = await trainDeviceModel(deviceId, rows, config.detectors);
  const version = await new ModelStore(config.detectors.modelDir).save(deviceId, model);
  model.dispose();
  process.stdout.write(
    `${deviceId}: model ${version} trained on ${rows.length} rows, threshold ` +
      `${model.metadata.threshold.value.toPrecision(4)}, now current in ${config.detectors.modelDir}\n`,
  );
  return 0;
}

/** An ISO-8601 instant or epoch milliseconds. */
function instant(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`expected an ISO-8601 instant or epoch ms, got ${text}`);
  return ms;
}

function csvLine(r: ScoredRow, root: string): string {
  const file = relative(root, r.file) || r.file;
  return (
    [
      JSON.stringify(file),
      new Date(r.timestampMs).toISOString(),
      r.score.toPrecision(6),
      r.threshold.toPrecision(6),
      r.predicted,
      r.label ?? '',
      r.changepoint ?? '',
      JSON.stringify(r.topFeature),
    ].join(',') + '\n'
  );
}

function report(result: EvaluationResult, fileCount: number, withLeaderboard: boolean): string {
  const lines: string[] = [];
  const testRows = result.files.reduce((n, f) => n + f.testRows, 0);
  lines.push(
    `files: ${result.files.length}/${fileCount} evaluated, test rows: ${testRows}, ` +
      `changepoints in test rows: ${result.changepoints}, ${result.seconds.toFixed(1)} s`,
  );
  const b = result.binary;
  const nab = result.nab;
  if (b) {
    lines.push(`pooled TP ${b.tp}  FP ${b.fp}  TN ${b.tn}  FN ${b.fn}`);
  }
  const fmt = (v: number | undefined, digits: number, suffix = '') =>
    v === undefined ? '-' : `${v.toFixed(digits)}${suffix}`;
  const header = ['method', 'F1', 'FAR', 'MAR', 'NAB standard', 'NAB low FP', 'NAB low FN'];
  const rows: string[][] = [
    [
      'sentio window-AE',
      fmt(b?.f1, 2),
      fmt(b?.far, 2, ' %'),
      fmt(b?.mar, 2, ' %'),
      fmt(nab?.standard, 2),
      fmt(nab?.lowFp, 2),
      fmt(nab?.lowFn, 2),
    ],
  ];
  if (withLeaderboard) {
    for (const l of leaderboard) {
      rows.push([
        `${l.method} (published)`,
        fmt(l.f1, 2),
        fmt(l.far, 2, ' %'),
        fmt(l.mar, 2, ' %'),
        fmt(l.nab, 2),
        '-',
        '-',
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  lines.push('', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), '');
  return lines.join('\n');
}

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${flag} expects a positive whole number, got ${value}`);
  return n;
}

function nonNegativeInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} expects a whole number >= 0, got ${value}`);
  return n;
}

function positiveNumber(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a positive number, got ${value}`);
  return n;
}

function fraction(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new Error(`${flag} expects 0 < q < 1, got ${value}`);
  return n;
}
