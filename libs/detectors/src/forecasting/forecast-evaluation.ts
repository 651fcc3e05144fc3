import { fitHolt, holtForecast, seasonalNaive, type ForecastPoint } from './holt-forecaster.js';
import { forecastMetric, forecastPoints, type MetricForecasterOptions } from './metric-forecaster.js';
import { sesForecast } from './ses-forecaster.js';

/**
 * `sentio`: the forecaster the service runs (`forecastMetric`: level, tested damped trend, conformal
 * intervals); `holt-damped`: what the service ran before; `ses`: level only.
 */
export type ForecastMethod = 'sentio' | 'holt-damped' | 'ses';
export const forecastMethods: readonly ForecastMethod[] = ['sentio', 'holt-damped', 'ses'];

/** The interval levels `detect forecast` reports coverage for. */
export const COVERAGE_LEVELS = [0.8, 0.95] as const;

/**
 * Forecasts from one origin with 80 % and 95 % intervals. `raw` is the raw history (newest last, a whole
 * number of buckets); the older methods see its bucket means, `sentio` the raw rows as the service does.
 */
export function forecastWith(
  method: ForecastMethod,
  raw: readonly number[],
  bucketRows: number,
  steps: number,
  seasonPeriod: number,
  forecaster: Partial<MetricForecasterOptions> = {},
): { f80: ForecastPoint[]; f95: ForecastPoint[]; trendWeight?: number } {
  if (method === 'sentio') {
    const f = forecastMetric(raw, steps, COVERAGE_LEVELS, { ...forecaster, bucketRows });
    return { f80: forecastPoints(f, 0.8), f95: forecastPoints(f, 0.95), trendWeight: f.trendWeight };
  }
  const history = bucket(raw, bucketRows);
  if (method === 'ses')
    return { f80: sesForecast(history, steps, 0.8), f95: sesForecast(history, steps, 0.95) };
  const fit = fitHolt(history, { damped: true, seasonPeriod });
  return { f80: holtForecast(fit, steps, 0.8), f95: holtForecast(fit, steps, 0.95) };
}

export interface ForecastEvaluationOptions {
  /** Rows averaged into one point before fitting, as the service does (`detectors.forecast.bucketRows`). */
  bucketRows: number;
  /** Points ahead of each forecast origin. */
  horizon: number;
  /** Points in one season for the seasonal naive benchmark (1: the plain naive forecast). */
  seasonPeriod: number;
  /** Most recent points a fit sees (the service keeps `historyRows / bucketRows`). */
  historyPoints: number;
  /** Fewest points before the first origin. */
  minHistory: number;
  method: ForecastMethod;
  /** Settings of the `sentio` forecaster other than the bucket (its defaults otherwise). */
  forecaster?: Partial<MetricForecasterOptions>;
}

export const defaultForecastEvaluationOptions: ForecastEvaluationOptions = {
  bucketRows: 30,
  horizon: 20,
  seasonPeriod: 1,
  historyPoints: 30,
  minHistory: 10,
  method: 'sentio',
};

/** Sums over every forecast point of a set of series; `summarise` turns them into the reported figures. */
export interface ForecastTally {
  series: number;
  origins: number;
  points: number;
  /** Sum of |actual - forecast|. */
  absErrorModel: number;
  /** Sum of |actual - seasonal naive forecast| at the same origins and horizons. */
  absErrorNaive: number;
  inside80: number;
  inside95: number;
  /** Each series' own MASE (its MAE over its naive MAE), for the scale-free mean. */
  seriesMase: number[];
  /** Origins whose forecast carried a trend (sentio only). */
  trendOrigins: number;
}

export function emptyForecastTally(): ForecastTally {
  return {
    series: 0,
    origins: 0,
    points: 0,
    absErrorModel: 0,
    absErrorNaive: 0,
    inside80: 0,
    inside95: 0,
    seriesMase: [],
    trendOrigins: 0,
  };
}

export interface ForecastSummary {
  series: number;
  origins: number;
  points: number;
  /**
   * Pooled: the MAE of all forecasts over that of the seasonal naive forecasts from the same origins.
   * Series with large values weigh more; below 1 beats naive.
   */
  mase: number;
  /** The mean of each series' own MASE (scale-free, as the M competitions average it). */
  meanMase: number;
  /** Share of actual values inside the 80 % and 95 % prediction intervals. */
  coverage80: number;
  coverage95: number;
  /** Share of origins whose forecast carried a trend. */
  trendShare: number;
}

export function summariseForecasts(t: ForecastTally): ForecastSummary {
  const finite = t.seriesMase.filter((m) => Number.isFinite(m));
  return {
    series: t.series,
    origins: t.origins,
    points: t.points,
    mase: t.absErrorNaive > 0 ? t.absErrorModel / t.absErrorNaive : Number.NaN,
    meanMase: finite.length > 0 ? finite.reduce((s, m) => s + m, 0) / finite.length : Number.NaN,
    coverage80: t.points > 0 ? t.inside80 / t.points : Number.NaN,
    coverage95: t.points > 0 ? t.inside95 / t.points : Number.NaN,
    trendShare: t.origins > 0 ? t.trendOrigins / t.origins : Number.NaN,
  };
}

/** One forecast point beside what came, for the per-row output anyone can re-score. */
export interface ForecastRow {
  /** Bucket index of the origin (the first forecast bucket) and the step ahead (1-based). */
  origin: number;
  step: number;
  actual: number;
  forecast: number;
  naive: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

/**
 * Rolling-origin evaluation of a forecaster on one raw series: bucket it like the service, then from
 * every origin (every `horizon` points once `minHistory` points exist) fit the method on the recent
 * history, forecast `horizon` points with 80 % and 95 % intervals, and compare with what came, and with
 * the seasonal naive forecast from the same origin. Adds into `tally`; `onRow` receives every point.
 */
export function evaluateForecastSeries(
  raw: readonly number[],
  options: ForecastEvaluationOptions,
  tally: ForecastTally,
  onRow?: (row: ForecastRow) => void,
): void {
  const o = options;
  const points = bucket(raw, o.bucketRows, true);
  const first = Math.max(o.minHistory, o.seasonPeriod, 3);
  if (points.length < first + 1) return;
  tally.series++;
  let seriesModel = 0;
  let seriesNaive = 0;
  for (let origin = first; origin < points.length; origin += o.horizon) {
    const from = Math.max(0, origin - o.historyPoints);
    const history = points.slice(from, origin);
    const steps = Math.min(o.horizon, points.length - origin);
    const f = forecastWith(
      o.method,
      raw.slice(from * o.bucketRows, origin * o.bucketRows),
      o.bucketRows,
      steps,
      o.seasonPeriod,
      o.forecaster,
    );
    const naive = seasonalNaive(history, o.seasonPeriod, steps);
    tally.origins++;
    if ((f.trendWeight ?? 0) > 0) tally.trendOrigins++;
    for (let h = 0; h < steps; h++) {
      const actual = points[origin + h]!;
      const p80 = f.f80[h]!;
      const p95 = f.f95[h]!;
      tally.points++;
      seriesModel += Math.abs(actual - p80.value);
      seriesNaive += Math.abs(actual - naive[h]!);
      if (actual >= p80.lower && actual <= p80.upper) tally.inside80++;
      if (actual >= p95.lower && actual <= p95.upper) tally.inside95++;
      onRow?.({
        origin,
        step: h + 1,
        actual,
        forecast: p80.value,
        naive: naive[h]!,
        lower80: p80.lower,
        upper80: p80.upper,
        lower95: p95.lower,
        upper95: p95.upper,
      });
    }
  }
  tally.absErrorModel += seriesModel;
  tally.absErrorNaive += seriesNaive;
  // A series the naive forecast gets exactly right (a constant) has no MASE; it stays out of the mean.
  if (seriesNaive > 0) tally.seriesMase.push(seriesModel / seriesNaive);
}

/** Means of consecutive `bucketRows` rows; `fromStart` aligns buckets to row 0, else to the newest row. */
function bucket(raw: readonly number[], bucketRows: number, fromStart = false): number[] {
  const n = Math.floor(raw.length / bucketRows);
  const offset = fromStart ? 0 : raw.length - n * bucketRows;
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    let sum = 0;
    for (let r = offset + b * bucketRows; r < offset + (b + 1) * bucketRows; r++) sum += raw[r]!;
    out.push(sum / bucketRows);
  }
  return out;
}
