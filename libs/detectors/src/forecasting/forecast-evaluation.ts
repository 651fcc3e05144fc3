import { fitHolt, holtForecast, seasonalNaive, type ForecastPoint } from './holt-forecaster.js';
import { sesForecast } from './ses-forecaster.js';

/** `holt-damped`: what the service forecasts time to failure with; `ses`: level only. */
export type ForecastMethod = 'holt-damped' | 'ses';
export const forecastMethods: readonly ForecastMethod[] = ['holt-damped', 'ses'];

export function forecastWith(
  method: ForecastMethod,
  history: readonly number[],
  steps: number,
  level: number,
  seasonPeriod: number,
): ForecastPoint[] {
  return method === 'ses'
    ? sesForecast(history, steps, level)
    : holtForecast(fitHolt(history, { damped: true, seasonPeriod }), steps, level);
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
}

export const defaultForecastEvaluationOptions: ForecastEvaluationOptions = {
  bucketRows: 30,
  horizon: 20,
  seasonPeriod: 1,
  historyPoints: 30,
  minHistory: 10,
  method: 'holt-damped',
};

/** Sums over every forecast point of a set of series; `summarise` turns them into the reported figures. */
export interface ForecastTally {
  series: number;
  origins: number;
  points: number;
  /** Sum of |actual - Holt forecast|. */
  absErrorModel: number;
  /** Sum of |actual - seasonal naive forecast| at the same origins and horizons. */
  absErrorNaive: number;
  inside80: number;
  inside95: number;
}

export function emptyForecastTally(): ForecastTally {
  return { series: 0, origins: 0, points: 0, absErrorModel: 0, absErrorNaive: 0, inside80: 0, inside95: 0 };
}

export interface ForecastSummary {
  series: number;
  origins: number;
  points: number;
  /** MAE of the forecasts over MAE of seasonal naive forecasts from the same origins: below 1 beats it. */
  mase: number;
  /** Share of actual values inside the 80 % and 95 % prediction intervals. */
  coverage80: number;
  coverage95: number;
}

export function summariseForecasts(t: ForecastTally): ForecastSummary {
  return {
    series: t.series,
    origins: t.origins,
    points: t.points,
    mase: t.absErrorNaive > 0 ? t.absErrorModel / t.absErrorNaive : Number.NaN,
    coverage80: t.points > 0 ? t.inside80 / t.points : Number.NaN,
    coverage95: t.points > 0 ? t.inside95 / t.points : Number.NaN,
  };
}

/**
 * Rolling-origin evaluation of a forecaster on one raw series: bucket it like the service, then from
 * every origin (every `horizon` points once `minHistory` points exist) fit the method on the
 * recent history, forecast `horizon` points with 80 % and 95 % intervals, and compare with what came, and
 * with the seasonal naive forecast from the same origin. Adds into `tally`.
 */
export function evaluateForecastSeries(
  raw: readonly number[],
  options: ForecastEvaluationOptions,
  tally: ForecastTally,
): void {
  const o = options;
  const points: number[] = [];
  for (let b = 0; (b + 1) * o.bucketRows <= raw.length; b++) {
    let sum = 0;
    for (let r = b * o.bucketRows; r < (b + 1) * o.bucketRows; r++) sum += raw[r]!;
    points.push(sum / o.bucketRows);
  }
  const first = Math.max(o.minHistory, o.seasonPeriod, 3);
  if (points.length < first + 1) return;
  tally.series++;
  for (let origin = first; origin < points.length; origin += o.horizon) {
    const history = points.slice(Math.max(0, origin - o.historyPoints), origin);
    const steps = Math.min(o.horizon, points.length - origin);
    const f80 = forecastWith(o.method, history, steps, 0.8, o.seasonPeriod);
    const f95 = forecastWith(o.method, history, steps, 0.95, o.seasonPeriod);
    const naive = seasonalNaive(history, o.seasonPeriod, steps);
    tally.origins++;
    for (let h = 0; h < steps; h++) {
      const actual = points[origin + h]!;
      tally.points++;
      tally.absErrorModel += Math.abs(actual - f80[h]!.value);
      tally.absErrorNaive += Math.abs(actual - naive[h]!);
      if (actual >= f80[h]!.lower && actual <= f80[h]!.upper) tally.inside80++;
      if (actual >= f95[h]!.lower && actual <= f95[h]!.upper) tally.inside95++;
    }
  }
}
