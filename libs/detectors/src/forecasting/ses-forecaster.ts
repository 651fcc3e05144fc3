import type { ForecastPoint } from './holt-forecaster.js';
import { normalQuantile } from '../stats.util.js';

const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/**
 * Simple exponential smoothing: a level and no trend, alpha chosen by one-step squared error on a grid
 * (alpha 1 is the naive forecast, so the fit can only improve on naive in-sample), with the h-step
 * intervals of the equivalent ETS(A,N,N) model. On bucketed sensor data whose slopes are mostly noise it
 * forecasts better than damped Holt, which extrapolates them.
 */
export function sesForecast(values: readonly number[], horizon: number, level: number): ForecastPoint[] {
  if (values.length < 2) throw new Error(`SES needs at least 2 observations, got ${values.length}`);
  let best = { sse: Infinity, alpha: 1, level: values[values.length - 1]! };
  for (const alpha of ALPHAS) {
    let l = values[0]!;
    let sse = 0;
    for (let t = 1; t < values.length; t++) {
      const e = values[t]! - l;
      sse += e * e;
      l += alpha * e;
    }
    if (sse < best.sse) best = { sse, alpha, level: l };
  }
  const sigma = Math.sqrt(best.sse / Math.max(1, values.length - 2));
  const z = normalQuantile(0.5 + level / 2);
  return Array.from({ length: horizon }, (_, i) => {
    const s = sigma * Math.sqrt(1 + i * best.alpha ** 2);
    return { step: i + 1, value: best.level, lower: best.level - z * s, upper: best.level + z * s, sigma: s };
  });
}
