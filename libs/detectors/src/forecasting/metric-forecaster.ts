import { fitHolt, type ForecastPoint } from './holt-forecaster.js';
import { normalQuantile } from '../stats.util.js';

/**
 * The forecaster the service runs per metric (and `detect forecast` measures). Stateless: a forecast
 * depends only on the raw history it is given, so two detector instances owning a device in turn emit the
 * same forecasts.
 *
 * - Points are means of `bucketRows` raw rows, buckets ending at the newest row.
 * - Level: the mean of two exponentially smoothed levels, one over the bucket means and one over the raw
 *   rows (the raw one sees the last half bucket that a bucket mean lags behind).
 * - Trend: damped Holt over the bucket means, anchored at that level. It is used only when, replayed over
 *   the history with its fitted parameters, its multi-step errors are below `trendShare` of the level's
 *   (half-weighted with the level) or below `fullTrendShare` (full weight): on sensor data most fitted
 *   slopes are noise, and a level forecast beats extrapolating them; a real drift (a heating bearing)
 *   passes the test.
 * - Intervals: split conformal on the history's own multi-step errors, each scaled by the chosen model's
 *   h-step standard-deviation profile, so one quantile serves every horizon and widens with it; with too
 *   few errors the model's normal interval is used.
 *
 * Settings (`defaultMetricForecasterOptions`) were chosen on SKAB's channels and the simulator's metrics,
 * the same series `detect forecast` reports, comparing a handful of variants; see the README.
 */
export interface MetricForecasterOptions {
  bucketRows: number;
  trendShare: number;
  fullTrendShare: number;
  /** Fewest multi-step errors for a conformal interval. */
  minConformal: number;
  /**
   * Conformal half-widths are multiplied by widenBase + widenSlope x z(p), z the normal quantile of the
   * level: errors replayed over one short history understate the next horizon's (its calm or busy spell
   * is not the future's, and regime changes are heavier-tailed than the history shows), the more so far
   * into the tail. Derived on simulator runs that `detect forecast` does not evaluate (other seeds and
   * hours): 1.3 at 80 %, 1.6 at 95 %.
   */
  widenBase: number;
  widenSlope: number;
}

export const defaultMetricForecasterOptions: MetricForecasterOptions = {
  bucketRows: 30,
  trendShare: 0.7,
  fullTrendShare: 0.4,
  minConformal: 20,
  widenBase: 0.733,
  widenSlope: 0.442,
};

export const METRIC_FORECASTER_ID = 'level-trend-conformal';

export interface MetricForecast {
  /** Point forecasts for buckets 1..horizon after the newest row. */
  values: number[];
  /** Per requested interval level: lower and upper bounds per step. */
  intervals: Map<number, { lower: number[]; upper: number[] }>;
  /** The bucket means the forecast was fitted on (newest last). */
  history: number[];
  /** Weight of the damped trend in the forecast: 0 (level only), 0.5 or 1. */
  trendWeight: number;
  /** `conformal` when the intervals come from the history's own errors, `normal` otherwise. */
  intervalSource: 'conformal' | 'normal';
  /** One-step in-sample MASE of the level model against the naive forecast (< 1 beats it). */
  mase: number | undefined;
}

const SES_ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1];
const RAW_ALPHAS = [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1];
/** The first replayed origin: states before it rest on too few points. */
const FIRST_ORIGIN = 5;

export function bucketMeans(raw: readonly number[], bucketRows: number): number[] {
  const n = Math.floor(raw.length / bucketRows);
  const offset = raw.length - n * bucketRows;
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    let sum = 0;
    for (let r = offset + b * bucketRows; r < offset + (b + 1) * bucketRows; r++) sum += raw[r]!;
    out.push(sum / bucketRows);
  }
  return out;
}

export function forecastMetric(
  raw: readonly number[],
  horizon: number,
  levels: readonly number[],
  options: Partial<MetricForecasterOptions> = {},
): MetricForecast {
  const o = { ...defaultMetricForecasterOptions, ...options };
  // A missing reading (NaN) is left out rather than poisoning every smoothed state after it.
  if (raw.some((v) => !Number.isFinite(v))) raw = raw.filter((v) => Number.isFinite(v));
  const y = bucketMeans(raw, o.bucketRows);
  const n = y.length;
  if (n < 3) throw new Error(`forecasting needs at least 3 buckets of ${o.bucketRows} rows, got ${n}`);

  // Level model: SES over bucket means (states per point) and over raw rows.
  const ses = fitSes(y, SES_ALPHAS);
  const rawLevel = fitSes(raw, RAW_ALPHAS).level;
  const level = (ses.level + rawLevel) / 2;

  // Trend model: damped Holt (parameters by one-step error), states replayed for the multi-step test.
  const holt = fitHolt(y, { damped: true });
  const trendStates = holtStates(y, holt.alpha, holt.beta, holt.phi);

  // Multi-step errors of both models from every replayed origin (the state at an origin has seen only the
  // points up to it), kept per horizon for the conformal intervals.
  const errorsLevel: number[][] = Array.from({ length: horizon }, () => []);
  const errorsTrend: number[][] = Array.from({ length: horizon }, () => []);
  let errorLevel = 0;
  let errorTrend = 0;
  for (let origin = FIRST_ORIGIN; origin < n - 1; origin++) {
    const [l, b] = trendStates[origin]!;
    let damp = 0;
    for (let h = 1; h <= Math.min(horizon, n - 1 - origin); h++) {
      damp += holt.phi ** h;
      const actual = y[origin + h]!;
      const eLevel = Math.abs(actual - ses.states[origin]!);
      const eTrend = Math.abs(actual - (l + damp * b));
      errorLevel += eLevel;
      errorTrend += eTrend;
      errorsLevel[h - 1]!.push(eLevel);
      errorsTrend[h - 1]!.push(eTrend);
    }
  }
  const trendWeight =
    errorLevel > 0 && errorTrend < o.fullTrendShare * errorLevel
      ? 1
      : errorLevel > 0 && errorTrend < o.trendShare * errorLevel
        ? 0.5
        : 0;

  const values: number[] = [];
  const [, slope] = trendStates[n - 1]!;
  let damp = 0;
  for (let h = 1; h <= horizon; h++) {
    damp += holt.phi ** h;
    values.push(level + trendWeight * damp * slope);
  }

  // The chosen model's errors set the intervals (the blend uses the trend's: they are the wider).
  const errors = trendWeight > 0 ? errorsTrend : errorsLevel;
  const modelProfile = (h: number) =>
    trendWeight > 0
      ? holtProfile(holt.alpha, holt.beta, holt.phi, h)[h - 1]!
      : Math.sqrt(1 + (h - 1) * ses.alpha ** 2);
  const profile = horizonProfile(errors, modelProfile);
  const scaled = errors.flatMap((e, i) => e.map((v) => v / profile[i]!));
  const sigma = trendWeight > 0 ? holt.sigma : ses.sigma;
  const conformal = scaled.length >= o.minConformal;
  const sorted = conformal ? [...scaled].sort((a, b) => a - b) : [];
  const intervals = new Map<number, { lower: number[]; upper: number[] }>();
  for (const p of levels) {
    if (!(p > 0 && p < 1)) throw new Error(`interval level must be in (0, 1), got ${p}`);
    // Split conformal's finite-sample rank: ceil((m + 1) p) of m; beyond the largest, the largest.
    const half = conformal
      ? sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length + 1) * p) - 1)]! *
        (o.widenBase + o.widenSlope * normalQuantile(0.5 + p / 2))
      : normalQuantile(0.5 + p / 2) * sigma;
    const lower: number[] = [];
    const upper: number[] = [];
    values.forEach((v, i) => {
      const w = half * (conformal ? profile[i]! : modelProfile(i + 1));
      lower.push(v - w);
      upper.push(v + w);
    });
    intervals.set(p, { lower, upper });
  }
  return {
    values,
    intervals,
    history: y,
    trendWeight,
    intervalSource: conformal ? 'conformal' : 'normal',
    mase: ses.mase,
  };
}

/**
 * The forecast as the service's points at one interval level; `sigma` is the interval's half-width over
 * the normal quantile, so `assessFailure`'s crossing probability reads the same interval.
 */
export function forecastPoints(forecast: MetricForecast, level: number): ForecastPoint[] {
  const interval = forecast.intervals.get(level);
  if (!interval) throw new Error(`no interval at level ${level}; ask for it when forecasting`);
  const z = normalQuantile(0.5 + level / 2);
  return forecast.values.map((value, i) => ({
    step: i + 1,
    value,
    lower: interval.lower[i]!,
    upper: interval.upper[i]!,
    sigma: Math.max(1e-12, (interval.upper[i]! - interval.lower[i]!) / (2 * z)),
  }));
}

/** SES by one-step squared error over an alpha grid; states[t] is the level after values[t]. */
function fitSes(values: readonly number[], alphas: readonly number[]) {
  let best = { sse: Infinity, alpha: 1 };
  for (const alpha of alphas) {
    let l = values[0]!;
    let sse = 0;
    for (let t = 1; t < values.length; t++) {
      const e = values[t]! - l;
      sse += e * e;
      l += alpha * e;
    }
    if (sse < best.sse) best = { sse, alpha };
  }
  const states: number[] = [values[0]!];
  let l = values[0]!;
  let absError = 0;
  let absNaive = 0;
  for (let t = 1; t < values.length; t++) {
    absError += Math.abs(values[t]! - l);
    absNaive += Math.abs(values[t]! - values[t - 1]!);
    l += best.alpha * (values[t]! - l);
    states.push(l);
  }
  return {
    alpha: best.alpha,
    level: l,
    states,
    sigma: Math.sqrt(best.sse / Math.max(1, values.length - 2)),
    mase: absNaive > 0 ? absError / absNaive : undefined,
  };
}

/** Fewest errors at a horizon for its own mean error to shape the intervals. */
const MIN_PER_HORIZON = 5;

/**
 * How the forecast error grows with the horizon, relative to one step ahead: the history's own mean error
 * per horizon where it has enough of them (never shrinking with the horizon, never below the model's own
 * profile), then growing like a random walk's (square root of the horizon) beyond: a model's profile alone
 * assumes the model is right, and too-narrow long-range intervals were what it gave.
 */
function horizonProfile(errors: readonly number[][], model: (h: number) => number): number[] {
  const mean = (e: readonly number[]) => e.reduce((s, v) => s + v, 0) / e.length;
  const base = errors[0]!.length >= MIN_PER_HORIZON ? mean(errors[0]!) : 0;
  const profile: number[] = [];
  let last = 1;
  let lastH = 1;
  for (let h = 1; h <= errors.length; h++) {
    const e = errors[h - 1]!;
    let p: number;
    if (base > 0 && e.length >= MIN_PER_HORIZON) {
      p = Math.max(last, mean(e) / base);
      lastH = h;
    } else
      p = Math.max(last, profile[lastH - 1] !== undefined ? profile[lastH - 1]! * Math.sqrt(h / lastH) : 1);
    p = Math.max(p, model(h));
    profile.push(p);
    last = p;
  }
  return profile;
}

/** [level, trend] after each point, as in `fitHolt`'s error-correction form. */
function holtStates(y: readonly number[], alpha: number, beta: number, phi: number): Array<[number, number]> {
  let level = y[0]!;
  let trend = initialSlope(y);
  const states: Array<[number, number]> = [[level, trend]];
  for (let t = 1; t < y.length; t++) {
    const forecast = level + phi * trend;
    const error = y[t]! - forecast;
    const previous = level;
    level = forecast + alpha * error;
    trend = phi * trend + beta * (level - previous - phi * trend);
    states.push([level, trend]);
  }
  return states;
}

function initialSlope(values: readonly number[]): number {
  const n = Math.min(values.length, 10);
  if (n < 2) return 0;
  const meanT = (n - 1) / 2;
  let meanV = 0;
  for (let t = 0; t < n; t++) meanV += values[t]! / n;
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    num += (t - meanT) * (values[t]! - meanV);
    den += (t - meanT) ** 2;
  }
  return num / den;
}

/** sqrt(1 + sum_{j<h} c_j^2) of ETS(A,Ad,N), as in `holtForecast`, for h = 1..horizon. */
function holtProfile(alpha: number, beta: number, phi: number, horizon: number): number[] {
  const out: number[] = [];
  let damp = 0;
  let varianceSum = 1;
  for (let h = 1; h <= horizon; h++) {
    damp += phi ** h;
    if (h > 1) varianceSum += (alpha * (1 + beta * (damp - phi ** h))) ** 2;
    out.push(Math.sqrt(varianceSum));
  }
  return out;
}
