import { basename, dirname } from 'node:path';
import { progressReporter, type Logger } from '@sentio/observability';
import { RobustGroupModel, type RobustGroupOptions } from '../models/robust-group-model.js';
import {
  UnivariateDetector,
  univariateMembers,
  univariateOptionsFor,
  type UnivariateOptions,
} from '../models/univariate-detector.js';
import { WindowAutoencoder, type AutoencoderOptions } from '../models/window-autoencoder.js';
import { readCsvSeries, type CsvSeries, type CsvSeriesOptions } from './csv-series.util.js';
import {
  addConfusion,
  addNabTally,
  binaryMetrics,
  confusion,
  emptyNabTally,
  labelsToChangepoints,
  nabScores,
  nabTally,
  nabTallyOfLabelWindows,
  type BinaryMetrics,
  type Confusion,
  type NabProfileName,
  type NabTally,
} from './skab-metrics.util.js';

/**
 * `group`: the robust statistical group model (any number of value columns, scored together);
 * `univariate`: the online single-metric detector; `window-ae`: the window autoencoder the service ran
 * before, kept for comparison; `auto`: univariate for one value column, group for several.
 */
export type DetectorKind = 'group' | 'univariate' | 'window-ae';
export type DetectorChoice = DetectorKind | 'auto';
export const detectorChoices: readonly DetectorChoice[] = ['auto', 'group', 'univariate', 'window-ae'];

/** The rows a file's model may be fitted on: a count, or a share of each file (files may differ in length). */
export type TrainSplit = { rows: number } | { fraction: number };

export interface SeriesEvaluationOptions {
  csv: CsvSeriesOptions;
  train: TrainSplit;
  /**
   * Score row by row and keep learning after the training rows (Numenta's protocol). The univariate
   * detector adapts its slow statistics; the group model and the autoencoder score row by row without
   * adapting, as the service does (a fault must not become the new normal).
   */
  online: boolean;
  detectors: readonly DetectorChoice[];
  /** Width of the NAB window to the right of each true changepoint (SKAB's scoring). */
  nabWindowMs: number;
  group?: Partial<RobustGroupOptions>;
  univariate?: Partial<UnivariateOptions>;
  autoencoder?: Partial<AutoencoderOptions>;
}

export interface RowResult {
  file: string;
  detector: DetectorKind;
  /** 0-based data row of the input file (the header is not counted): joins the output to the input. */
  row: number;
  /** Undefined when the file has no timestamp column. */
  timestampMs: number | undefined;
  phase: 'train' | 'test';
  /** The detector's own score (units differ per detector); undefined before a first full window. */
  score: number | undefined;
  /** In [0, 1], 0.5 at the alarm threshold. */
  calibrated: number | undefined;
  /** The raw score's alarm threshold. */
  threshold: number;
  predicted: 0 | 1;
  /** A predicted changepoint at this row (what the NAB changepoint score counts). */
  changepointPredicted: 0 | 1;
  label: number | undefined;
  changepoint: number | undefined;
  /** Each member's score (group: normalised score; univariate: likelihood). */
  members: Record<string, number>;
  topFeature: string;
}

export interface FileSummary {
  file: string;
  detector: DetectorKind;
  rows: number;
  trainRows: number;
  testRows: number;
  threshold: number;
  /** Test rows predicted anomalous. */
  flaggedRows: number;
  modelVersion: string;
  confusion: Confusion | undefined;
}

export interface DetectorResult {
  detector: DetectorKind;
  /** Pooled over the test rows of every file that has labels. */
  binary: BinaryMetrics | undefined;
  /** Over every file that has changepoint labels. */
  nab: Record<NabProfileName, number> | undefined;
  /** Each member's own alarms (member score above the same threshold), scored the same way. */
  members: Record<
    string,
    { binary: BinaryMetrics | undefined; nab: Record<NabProfileName, number> | undefined }
  >;
}

export interface SeriesEvaluationResult {
  files: FileSummary[];
  detectors: DetectorResult[];
  skipped: Array<{ file: string; reason: string }>;
  changepoints: number;
  seconds: number;
}

interface Scored {
  detector: DetectorKind;
  modelVersion: string;
  threshold: number;
  score: Array<number | undefined>;
  calibrated: Array<number | undefined>;
  predicted: Array<0 | 1>;
  /** Alerts (each an event) rather than anomalous rows: changepoints are the alerts themselves. */
  events: 'rows' | 'alerts';
  /** The detector's own changepoints, when it has a change detector; else derived from `predicted`. */
  changepoints?: Array<0 | 1>;
  members: Record<string, { score: number[]; predicted: Array<0 | 1> }>;
  top: number[];
}

class Pool {
  confusion: Confusion | undefined;
  tally: NabTally = emptyNabTally();
  withChangepoints = 0;
  add(c: Confusion | undefined, t: NabTally | undefined): void {
    if (c) this.confusion = this.confusion ? addConfusion(this.confusion, c) : c;
    if (t) {
      this.tally = addNabTally(this.tally, t);
      this.withChangepoints++;
    }
  }
  result() {
    return {
      binary: this.confusion ? binaryMetrics(this.confusion) : undefined,
      nab: this.withChangepoints > 0 ? nabScores(this.tally) : undefined,
    };
  }
}

export function trainRowsOf(split: TrainSplit, rows: number): number {
  return 'rows' in split ? split.rows : Math.floor(split.fraction * rows);
}

/**
 * The offline protocol (SKAB's and Numenta's, for any CSV): per file, fit on the first training rows only,
 * then score every row in order exactly as the online detector would when that row arrives. Every row is
 * reported (training rows too, scored in-sample, marked `train`) so the output joins the input row by row.
 * Labels are read only to count the result.
 */
export async function evaluateSeriesFiles(
  files: readonly string[],
  options: SeriesEvaluationOptions,
  logger: Logger,
  onRows: (rows: RowResult[]) => Promise<void>,
): Promise<SeriesEvaluationResult> {
  const started = performance.now();
  const progress = progressReporter(logger, 'detect evaluate', files.length);
  const summaries: FileSummary[] = [];
  const skipped: Array<{ file: string; reason: string }> = [];
  const pools = new Map<DetectorKind, { fused: Pool; members: Map<string, Pool> }>();
  let changepoints = 0;
  for (const file of files) {
    let series: CsvSeries;
    try {
      series = await readCsvSeries(file, options.csv);
    } catch (error) {
      // One unreadable file is reported and skipped; the others are still evaluated.
      const reason = error instanceof Error ? error.message : String(error);
      skipped.push({ file, reason });
      logger.warn({ file, reason }, 'file skipped');
      progress.advance(1);
      continue;
    }
    const trainRows = trainRowsOf(options.train, series.rows.length);
    const kinds = [
      ...new Set(
        options.detectors.map((d) =>
          d === 'auto' ? (series.features.length === 1 ? 'univariate' : 'group') : d,
        ),
      ),
    ];
    if (series.rows.length <= trainRows) {
      skipped.push({
        file,
        reason: `${series.rows.length} rows, none left after ${trainRows} training rows`,
      });
      logger.warn({ file, rows: series.rows.length, trainRows }, 'too few rows to test, skipped');
      progress.advance(1);
      continue;
    }
    const testCps = series.changepoints?.slice(trainRows);
    if (testCps) changepoints += testCps.filter((c) => c === 1).length;
    for (const kind of kinds) {
      let scored: Scored;
      try {
        scored = await scoreFile(kind, series, trainRows, options);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        skipped.push({ file, reason: `${kind}: ${reason}` });
        logger.warn({ file, detector: kind, reason }, 'file skipped');
        continue;
      }
      let pool = pools.get(kind);
      if (!pool) {
        pool = { fused: new Pool(), members: new Map() };
        pools.set(kind, pool);
      }
      const count = (predicted: Array<0 | 1>, events: 'rows' | 'alerts') => {
        const test = predicted.slice(trainRows);
        const c = series.labels ? confusion(series.labels.slice(trainRows), test) : undefined;
        const testTimes = series.timestampsMs.slice(trainRows);
        const t = testCps
          ? nabTally(
              {
                timestampsMs: series.timestampsMs.slice(trainRows),
                changepoints: testCps,
                predicted: events === 'alerts' ? test : labelsToChangepoints(test),
              },
              options.nabWindowMs,
            )
          : series.labels && events === 'alerts'
            ? nabTallyOfLabelWindows(testTimes, series.labels.slice(trainRows), test)
            : undefined;
        return { c, t };
      };
      const fused = count(scored.predicted, scored.events);
      const cpEvents = scored.changepoints ? count(scored.changepoints, 'alerts').t : fused.t;
      pool.fused.add(fused.c, cpEvents);
      for (const [name, m] of Object.entries(scored.members)) {
        let mp = pool.members.get(name);
        if (!mp) {
          mp = new Pool();
          pool.members.set(name, mp);
        }
        const r = count(m.predicted, scored.events);
        mp.add(r.c, r.t);
      }
      await onRows(
        series.rows.map((_, i) => ({
          file,
          detector: kind,
          row: i,
          timestampMs: series.timestampColumn ? series.timestampsMs[i] : undefined,
          phase: i < trainRows ? 'train' : 'test',
          score: scored.score[i],
          calibrated: scored.calibrated[i],
          threshold: scored.threshold,
          predicted: scored.predicted[i]!,
          changepointPredicted: (scored.changepoints ??
            (scored.events === 'alerts' ? scored.predicted : labelsToChangepoints(scored.predicted)))[i] as
            0 | 1,
          label: series.labels?.[i],
          changepoint: series.changepoints?.[i],
          members: Object.fromEntries(Object.entries(scored.members).map(([n, m]) => [n, m.score[i]!])),
          topFeature: series.features[scored.top[i] ?? 0]!,
        })),
      );
      summaries.push({
        file,
        detector: kind,
        rows: series.rows.length,
        trainRows,
        testRows: series.rows.length - trainRows,
        threshold: scored.threshold,
        flaggedRows: scored.predicted.slice(trainRows).filter((p) => p === 1).length,
        modelVersion: scored.modelVersion,
        confusion: fused.c,
      });
    }
    progress.advance(1);
  }
  progress.done();
  return {
    files: summaries,
    detectors: [...pools.entries()].map(([detector, p]) => ({
      detector,
      ...p.fused.result(),
      members: Object.fromEntries([...p.members.entries()].map(([n, mp]) => [n, mp.result()])),
    })),
    skipped,
    changepoints,
    seconds: (performance.now() - started) / 1000,
  };
}

async function scoreFile(
  kind: DetectorKind,
  series: CsvSeries,
  trainRows: number,
  options: SeriesEvaluationOptions,
): Promise<Scored> {
  const n = series.rows.length;
  if (kind !== 'univariate') {
    const missing = series.rows.findIndex((r) => r.some((v) => Number.isNaN(v)));
    if (missing >= 0)
      throw new Error(
        `empty value at data row ${missing}; only the univariate detector bridges missing values`,
      );
  }
  if (kind === 'group') {
    const model = RobustGroupModel.fit(series.features, series.rows.slice(0, trainRows), options.group);
    const scores = model.scoreSeries(series.rows);
    const margin = model.margin;
    return {
      detector: kind,
      modelVersion: model.state.modelVersion,
      threshold: margin,
      score: scores.map((s) => s.raw),
      calibrated: scores.map((s) => s.calibrated),
      predicted: scores.map((s) => (s.anomalous ? 1 : 0)),
      events: 'rows',
      // Changepoints: the alarm's state changes, and the fast change statistic (changes within the normal
      // range, and ends of episodes before the slower alarm clears).
      changepoints: scores.map((s, i) =>
        s.changepoint || (i > 0 && s.anomalous !== scores[i - 1]!.anomalous) ? 1 : 0,
      ),
      members: Object.fromEntries(
        (['correlation', 'level'] as const).map((m) => [
          m,
          {
            score: scores.map((s) => s.members[m]),
            predicted: scores.map((s) => (s.members[m] > margin ? 1 : 0) as 0 | 1),
          },
        ]),
      ),
      top: scores.map((s) => argMax(s.contributions)),
    };
  }
  if (kind === 'univariate') {
    if (series.features.length !== 1)
      throw new Error(
        `the univariate detector needs one value column, found ${series.features.length} ` +
          `(${series.features.join(', ')}); pick one with --value-col`,
      );
    if (trainRows < 10)
      throw new Error(`the univariate detector needs at least 10 training rows, got ${trainRows}`);
    const o = { ...univariateOptionsFor(trainRows), ...options.univariate };
    const detector = new UnivariateDetector(o);
    const scores = series.rows.map((r, i) => {
      if (i === trainRows && !options.online) detector.freeze();
      return detector.push(r[0]!, i < trainRows);
    });
    const memberThreshold = -Math.log10(o.alarmProbability);
    return {
      detector: kind,
      modelVersion: `univariate:${o.memoryRows}:${o.refractoryRows}`,
      threshold: -Math.log10(o.alarmProbability),
      score: scores.map((s) => s.raw),
      calibrated: scores.map((s) => s.calibrated),
      predicted: scores.map((s) => (s.anomalous ? 1 : 0)),
      events: 'alerts',
      members: Object.fromEntries(
        univariateMembers.map((m) => [
          m,
          {
            score: scores.map((s) => s.members[m]),
            predicted: scores.map(
              (s, i) =>
                (i >= trainRows && -Math.log10(Math.max(1 - s.members[m], 1e-300)) > memberThreshold
                  ? 1
                  : 0) as 0 | 1,
            ),
          },
        ]),
      ),
      top: scores.map(() => 0),
    };
  }
  const model = await WindowAutoencoder.train({
    modelId: `${basename(dirname(series.file))}/${basename(series.file)}`,
    features: series.features,
    rows: series.rows.slice(0, trainRows),
    trainingRange: {
      fromMs: series.timestampsMs[0]!,
      toMs: series.timestampsMs[trainRows - 1]!,
      rows: trainRows,
    },
    options: options.autoencoder,
  });
  try {
    const scores = model.scoreSeries(series.rows, 0);
    const pad = n - scores.length;
    const threshold = model.threshold;
    const score: Array<number | undefined> = [...new Array<undefined>(pad), ...scores.map((s) => s.score)];
    return {
      detector: kind,
      modelVersion: model.metadata.modelVersion,
      threshold,
      score,
      calibrated: score.map((s) => (s === undefined ? undefined : 1 - 2 ** -((s / threshold) ** 2))),
      predicted: score.map((s) => (s !== undefined && s > threshold ? 1 : 0)),
      events: 'rows',
      members: {},
      top: [...new Array<number>(pad).fill(0), ...scores.map((s) => argMax(s.contributions))],
    };
  } finally {
    model.dispose();
  }
}

function argMax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) best = i;
  });
  return best;
}
