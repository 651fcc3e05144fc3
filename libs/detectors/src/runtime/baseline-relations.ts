import { invertSymmetric } from '../models/linear-algebra.util.js';
import type { RobustGroupModel } from '../models/robust-group-model.js';

/**
 * How a device's metrics move together in normal operation, as the baseline's drift gate reads it: the
 * dominant direction of the group model's training covariance (its 30-row means in robust units), with
 * the per-metric scales that put a raw trend in those units.
 */
export interface BaselineRelations {
  /** Per metric: the robust scale of its training rows (raw units per robust unit). */
  scale: number[];
  /** Unit vector in robust units: the direction along which the training rows varied most. */
  direction: number[];
}

const POWER_ITERATIONS = 100;

/**
 * The relations a fitted group model learned: the first principal component of its training covariance.
 * On a pump that is the load: flow, head, current and vibration rise and fall together with demand, so a
 * drift along it is the machine doing more of what it did in training.
 */
export function baselineRelations(model: RobustGroupModel): BaselineRelations {
  const { correlation, options, scale } = model.state;
  // A model that leaves its relations out of scoring has them at hand (its covariance no longer shows them).
  const own = correlation.relations?.[0];
  if (own) return { scale: [...scale], direction: [...own] };
  // The model keeps the inverse of the covariance plus a ridge; the ridge shifts every eigenvalue alike.
  const covariance = invertSymmetric(correlation.inverse).map((row, i) =>
    row.map((v, j) => (i === j ? v - options.ridge : v)),
  );
  let v = covariance.map(() => 1 / Math.sqrt(covariance.length));
  for (let k = 0; k < POWER_ITERATIONS; k++) {
    const next = covariance.map((row) => row.reduce((s, c, j) => s + c * v[j]!, 0));
    const norm = Math.hypot(...next);
    if (!(norm > 0)) break;
    v = next.map((x) => x / norm);
  }
  return { scale: [...scale], direction: v };
}

/**
 * How well a deviation or a trend (robust units, one value per metric) moves the metrics the way the
 * relations do: 1 when the metrics of the relation move in its proportions, near 0 when they move on their
 * own (a bearing shaking without more flow or current, a leak's flow up while its head falls). Each metric
 * counts by its weight in the relation (its direction component squared), so a metric outside it, a
 * temperature lagging the load by twenty minutes, neither opens nor closes the gate; the scalar along the
 * relation is the weighted least-squares fit, and the share is one minus the weighted residual over the
 * weighted total.
 */
export function alignedShare(robust: readonly number[], direction: readonly number[]): number {
  let num = 0;
  let den = 0;
  let total = 0;
  for (let f = 0; f < robust.length; f++) {
    const w = direction[f]! ** 2;
    num += w * direction[f]! * robust[f]!;
    den += w * w;
    total += w * robust[f]! ** 2;
  }
  if (!(total > 0) || !(den > 0)) return 0;
  const a = num / den;
  let residual = 0;
  for (let f = 0; f < robust.length; f++)
    residual += direction[f]! ** 2 * (robust[f]! - a * direction[f]!) ** 2;
  return 1 - residual / total;
}
