import { normalCdf, normalQuantile } from '../stats.util.js';

export interface HoltOptions {
  /** Damping of the trend (phi < 1): long horizons flatten instead of extrapolating a slope forever. */
  damped: boolean;
  /** Fixed smoothing parameters; those left out are chosen by minimising one-step squared error on a grid. */
  alpha?: number;
  beta?: number;
  phi?: number;
  /** Seasonal period in steps for the seasonal naive baseline of MASE; 1 is the plain naive forecast. */
  seasonPeriod: number;
}

export const defaultHoltOptions: HoltOptions = { damped: false, seasonPeriod: 1 };

export interface HoltFit {
  alpha: number;
  beta: number;
  phi: number;
  level: number;
  trend: number;
  /** Standard deviation of the one-step-ahead residuals. */
  sigma: number;
  /** Mean absolute scaled error of the one-step forecasts against the seasonal naive forecast; <1 beats it. */
  mase: number | undefined;
  observations: number;
}

export interface ForecastPoint {
  step: number;
  value: number;
  lower: number;
  upper: number;
  sigma: number;
}

const GRID = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
const PHI_GRID = [0.8, 0.85, 0.9, 0.95, 0.98];

/**
 * Holt's linear trend method (double exponential smoothing), optionally damped, in its error-correction
 * form. Parameters not given are fitted by grid search on the one-step-ahead squared error, which keeps the
 * fit deterministic and cheap enough to refit per metric on every forecast.
 */
export function fitHolt(values: readonly number[], options: Partial<HoltOptions> = {}): HoltFit {
  const o = { ...defaultHoltOptions, ...options };
  if (values.length < 3) throw new Error(`Holt needs at least 3 observations, got ${values.length}`);
  const alphas = o.alpha !== undefined ? [o.alpha] : GRID;
  const betas = o.beta !== undefined ? [o.beta] : GRID.filter((b) => b <= 0.5);
  const phis = o.phi !== undefined ? [o.phi] : o.damped ? PHI_GRID : [1];
  let best: { sse: number; alpha: number; beta: number; phi: number } | undefined;
  for (const alpha of alphas)
    for (const beta of betas)
      for (const phi of phis) {
        const { sse } = run(values, alpha, beta, phi);
        if (!best || sse < best.sse) best = { sse, alpha, beta, phi };
      }
  const { alpha, beta, phi } = best!;
  const { level, trend, residuals } = run(values, alpha, beta, phi);
  const sigma = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / Math.max(1, residuals.length - 2));
  return {
    alpha,
    beta,
    phi,
    level,
    trend,
    sigma,
    mase: mase(values, residuals, o.seasonPeriod),
    observations: values.length,
  };
}

/**
 * Point forecasts and prediction intervals for steps 1..horizon. The h-step variance is that of the
 * equivalent ETS(A,Ad,N) state-space model: sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha (1 + beta phi_j),
 * phi_j = phi + ... + phi^j, with beta the trend smoothing of the component form used here.
 */
export function holtForecast(fit: HoltFit, horizon: number, level = 0.9): ForecastPoint[] {
  const z = normalQuantile(0.5 + level / 2);
  const points: ForecastPoint[] = [];
  let damp = 0;
  let varianceSum = 1;
  for (let h = 1; h <= horizon; h++) {
    damp += fit.phi ** h;
    if (h > 1) {
      const phiJ = damp - fit.phi ** h;
      varianceSum += (fit.alpha * (1 + fit.beta * phiJ)) ** 2;
    }
    const value = fit.level + damp * fit.trend;
    const sigma = fit.sigma * Math.sqrt(varianceSum);
    points.push({ step: h, value, lower: value - z * sigma, upper: value + z * sigma, sigma });
  }
  return points;
}

export type Risk = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH';

export interface Limits {
  lower?: number | null;
  upper?: number | null;
}

export interface FailureAssessment {
  risk: Risk;
  /** Steps (fractional, interpolated between forecast points) until the crossing that set the risk. */
  stepsToFailure: number | undefined;
  /** Probability, under the forecast's normal distribution, that a limit is beyond by the end of the horizon. */
  confidence: number | undefined;
  limit: 'lower' | 'upper' | undefined;
}

/**
 * Compares a forecast with the metric's limits. HIGH: the point forecast crosses a limit within the horizon;
 * MEDIUM: only the prediction interval does; LOW: the forecast ends within `nearFraction` of the limits'
 * span (or of the limit's magnitude with a single limit) from a limit; NONE otherwise.
 */
export function assessFailure(
  lastValue: number,
  points: readonly ForecastPoint[],
  limits: Limits,
  nearFraction = 0.1,
): FailureAssessment {
  const upper = limits.upper ?? undefined;
  const lower = limits.lower ?? undefined;
  const none: FailureAssessment = {
    risk: 'NONE',
    stepsToFailure: undefined,
    confidence: undefined,
    limit: undefined,
  };
  if ((upper === undefined && lower === undefined) || points.length === 0) return none;
  const last = points[points.length - 1]!;
  const confidence = Math.max(
    upper === undefined ? 0 : 1 - normalCdf((upper - last.value) / last.sigma),
    lower === undefined ? 0 : normalCdf((lower - last.value) / last.sigma),
  );

  const crossing = (pick: (p: ForecastPoint) => number, limit: number, side: 'upper' | 'lower') => {
    const beyond = (v: number) => (side === 'upper' ? v >= limit : v <= limit);
    let previous = { step: 0, v: lastValue };
    if (beyond(previous.v)) return 0;
    for (const p of points) {
      const v = pick(p);
      if (beyond(v))
        return previous.step + ((limit - previous.v) / (v - previous.v)) * (p.step - previous.step);
      previous = { step: p.step, v };
    }
    return undefined;
  };
  const first = (candidates: Array<[number | undefined, 'upper' | 'lower']>) =>
    candidates
      .filter((c): c is [number, 'upper' | 'lower'] => c[0] !== undefined)
      .sort((a, b) => a[0] - b[0])[0];

  const pointCross = first([
    [upper === undefined ? undefined : crossing((p) => p.value, upper, 'upper'), 'upper'],
    [lower === undefined ? undefined : crossing((p) => p.value, lower, 'lower'), 'lower'],
  ]);
  if (pointCross) return { risk: 'HIGH', stepsToFailure: pointCross[0], confidence, limit: pointCross[1] };
  const intervalCross = first([
    [upper === undefined ? undefined : crossing((p) => p.upper, upper, 'upper'), 'upper'],
    [lower === undefined ? undefined : crossing((p) => p.lower, lower, 'lower'), 'lower'],
  ]);
  if (intervalCross)
    return { risk: 'MEDIUM', stepsToFailure: intervalCross[0], confidence, limit: intervalCross[1] };
  const span = upper !== undefined && lower !== undefined ? upper - lower : Math.abs((upper ?? lower)!) || 1;
  const margin = nearFraction * span;
  const near =
    (upper !== undefined && upper - last.value <= margin) ||
    (lower !== undefined && last.value - lower <= margin);
  return near
    ? { risk: 'LOW', stepsToFailure: undefined, confidence, limit: undefined }
    : { ...none, confidence };
}

/** The seasonal naive forecast: each value repeats the one a season (period steps) earlier. */
export function seasonalNaive(values: readonly number[], period: number, horizon: number): number[] {
  if (values.length < period)
    throw new Error(`seasonal naive needs ${period} observations, got ${values.length}`);
  const season = values.slice(values.length - period);
  return Array.from({ length: horizon }, (_, h) => season[h % period]!);
}

function run(values: readonly number[], alpha: number, beta: number, phi: number) {
  let level = values[0]!;
  // The starting slope from a least-squares line through the first points, not from the first two alone:
  // one noisy difference would otherwise set a trend that a small beta carries for the whole fit.
  let trend = initialSlope(values);
  const residuals: number[] = [];
  let sse = 0;
  for (let t = 1; t < values.length; t++) {
    const forecast = level + phi * trend;
    const error = values[t]! - forecast;
    // The first step only initialises: its forecast uses the trend it was built from.
    if (t > 1) {
      residuals.push(error);
      sse += error * error;
    }
    const previousLevel = level;
    level = forecast + alpha * error;
    trend = phi * trend + beta * (level - previousLevel - phi * trend);
  }
  return { level, trend, residuals, sse };
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

function mase(values: readonly number[], residuals: readonly number[], period: number): number | undefined {
  let naive = 0;
  let n = 0;
  for (let t = period; t < values.length; t++) {
    naive += Math.abs(values[t]! - values[t - period]!);
    n++;
  }
  if (n === 0 || naive === 0 || residuals.length === 0) return undefined;
  const mae = residuals.reduce((s, r) => s + Math.abs(r), 0) / residuals.length;
  return mae / (naive / n);
}
