import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  evaluateCsvFiles,
  initTfBackend,
  listCsvFiles,
  type EvaluationResult,
  type ScoredRow,
} from '@sentio/detectors';
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
    '[--threshold-factor 1.5] [--seed 42] [--nab-window-s 60]\n' +
    '       sentio detect skab [--csv <SKAB data folder>] [same options]: the SKAB protocol beside the leaderboard',
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'evaluate' && sub !== 'skab') throw new Error('expected a subcommand: evaluate or skab');
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
