import { basename, dirname } from 'node:path';
import { progressReporter, type Logger } from '@sentio/observability';
import { readCsvSeries, type CsvSeriesOptions } from './csv-series.util.js';
import {
  addConfusion,
  addNabTally,
  binaryMetrics,
  confusion,
  emptyNabTally,
  labelsToChangepoints,
  nabScores,
  nabTally,
  type BinaryMetrics,
  type Confusion,
  type NabProfileName,
} from './skab-metrics.util.js';
import { WindowAutoencoder, type AutoencoderOptions } from './window-autoencoder.js';

export interface EvaluationOptions {
  csv: CsvSeriesOptions;
  /** Rows at the start of each file used for training; the rest is scored. */
  trainRows: number;
  /** Width of the NAB window to the right of each true changepoint. */
  nabWindowMs: number;
  autoencoder?: Partial<AutoencoderOptions>;
}

export interface ScoredRow {
  file: string;
  timestampMs: number;
  score: number;
  threshold: number;
  predicted: 0 | 1;
  label: number | undefined;
  changepoint: number | undefined;
  /** The feature with the largest share of the score. */
  topFeature: string;
}

export interface FileEvaluation {
  file: string;
  trainRows: number;
  testRows: number;
  threshold: number;
  modelVersion: string;
  confusion: Confusion | undefined;
}

export interface EvaluationResult {
  files: FileEvaluation[];
  /** Pooled over the test rows of every file that has labels. */
  binary: BinaryMetrics | undefined;
  /** Over every file that has changepoint labels. */
  nab: Record<NabProfileName, number> | undefined;
  changepoints: number;
  seconds: number;
}

/**
 * The offline protocol (SKAB's, for any CSV): per file, fit the scaler, model and threshold on the first
 * `trainRows` rows only, then score each later row by the window that ends at it, exactly as the online
 * detector scores a window when its last row arrives. Labels are read only to count the result.
 */
export async function evaluateCsvFiles(
  files: readonly string[],
  options: EvaluationOptions,
  logger: Logger,
  onRows: (rows: ScoredRow[]) => Promise<void>,
): Promise<EvaluationResult> {
  const started = performance.now();
  const progress = progressReporter(logger, 'detect evaluate', files.length);
  const results: FileEvaluation[] = [];
  let pooled: Confusion | undefined;
  let tally = emptyNabTally();
  let withChangepoints = 0;
  let changepoints = 0;
  for (const file of files) {
    const series = await readCsvSeries(file, options.csv);
    const { rows, timestampsMs, labels } = series;
    if (rows.length <= options.trainRows) {
      logger.warn({ file, rows: rows.length, trainRows: options.trainRows }, 'too few rows to test, skipped');
      progress.advance(1);
      continue;
    }
    const train = rows.slice(0, options.trainRows);
    const model = await WindowAutoencoder.train({
      modelId: `${basename(dirname(file))}/${basename(file)}`,
      features: series.features,
      rows: train,
      trainingRange: {
        fromMs: timestampsMs[0]!,
        toMs: timestampsMs[options.trainRows - 1]!,
        rows: train.length,
      },
      options: options.autoencoder,
    });
    try {
      const scores = model.scoreSeries(rows, options.trainRows);
      const threshold = model.threshold;
      const predicted = scores.map((s) => (s.score > threshold ? 1 : 0));
      const testLabels = labels?.slice(options.trainRows);
      const testCps = series.changepoints?.slice(options.trainRows);
      const testTimes = timestampsMs.slice(options.trainRows);
      const fileConfusion = testLabels ? confusion(testLabels, predicted) : undefined;
      if (fileConfusion) pooled = pooled ? addConfusion(pooled, fileConfusion) : fileConfusion;
      if (testCps) {
        withChangepoints++;
        changepoints += testCps.filter((c) => c === 1).length;
        tally = addNabTally(
          tally,
          nabTally(
            { timestampsMs: testTimes, changepoints: testCps, predicted: labelsToChangepoints(predicted) },
            options.nabWindowMs,
          ),
        );
      }
      await onRows(
        scores.map((s, i) => {
          let top = 0;
          s.contributions.forEach((c, f) => {
            if (c > s.contributions[top]!) top = f;
          });
          return {
            file,
            timestampMs: testTimes[i]!,
            score: s.score,
            threshold,
            predicted: predicted[i] as 0 | 1,
            label: testLabels?.[i],
            changepoint: testCps?.[i],
            topFeature: series.features[top]!,
          };
        }),
      );
      results.push({
        file,
        trainRows: train.length,
        testRows: scores.length,
        threshold,
        modelVersion: model.metadata.modelVersion,
        confusion: fileConfusion,
      });
    } finally {
      model.dispose();
    }
    progress.advance(1);
  }
  progress.done();
  return {
    files: results,
    binary: pooled ? binaryMetrics(pooled) : undefined,
    nab: withChangepoints > 0 ? nabScores(tally) : undefined,
    changepoints,
    seconds: (performance.now() - started) / 1000,
  };
}
