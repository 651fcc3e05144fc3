import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { assessFailure, fitHolt, holtForecast, seasonalNaive } from './holt-forecaster.js';

/** y = 20 + 0.5 t + N(0, 0.5): crosses 100 at t = 160. */
function drift(n: number, seed = 7): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, t) => {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return 20 + 0.5 * t + 0.5 * gauss;
  });
}

describe('Holt forecasting', () => {
  it('predicts the time to failure of a linear drift before it crosses the limit', () => {
    const values = drift(120); // last observation at t = 119, 41 steps before the crossing at t = 160
    const fit = fitHolt(values);
    const points = holtForecast(fit, 100, 0.9);
    const assessment = assessFailure(values[values.length - 1]!, points, { upper: 100 });
    expect(assessment.risk).toBe('HIGH');
    expect(assessment.limit).toBe('upper');
    expect(assessment.stepsToFailure!).toBeGreaterThan(41 - 5);
    expect(assessment.stepsToFailure!).toBeLessThan(41 + 5);
    // The point forecast ends beyond the limit, so crossing by the horizon is more likely than not.
    expect(assessment.confidence!).toBeGreaterThan(0.5);
    // A trend the naive forecast cannot follow: Holt's one-step errors are smaller.
    expect(fit.mase!).toBeLessThan(1);
  });

  it('widens the prediction interval with the horizon', () => {
    const points = holtForecast(fitHolt(drift(120)), 30);
    expect(points[29]!.upper - points[29]!.lower).toBeGreaterThan(points[0]!.upper - points[0]!.lower);
    expect(points[0]!.lower).toBeLessThan(points[0]!.value);
  });

  it('grades risk: interval only is MEDIUM, near is LOW, far is NONE', () => {
    const flat = Array.from({ length: 60 }, (_, t) => 50 + (t % 2 === 0 ? 1 : -1));
    const fit = fitHolt(flat, { damped: true });
    const points = holtForecast(fit, 20);
    const top = Math.max(...points.map((p) => p.upper));
    expect(assessFailure(49, points, { upper: top - 0.01 }).risk).toBe('MEDIUM');
    expect(assessFailure(49, points, { upper: top + 1 }, 0.5).risk).toBe('LOW');
    expect(assessFailure(49, points, { upper: 1000, lower: -1000 }).risk).toBe('NONE');
    expect(assessFailure(49, points, {}).risk).toBe('NONE');
  });

  it('damps the trend so long horizons flatten', () => {
    const values = drift(120);
    const damped = holtForecast(fitHolt(values, { damped: true, phi: 0.9 }), 200);
    const linear = holtForecast(fitHolt(values), 200);
    expect(damped[199]!.value).toBeLessThan(linear[199]!.value);
  });

  it('repeats the last season as the seasonal naive forecast', () => {
    expect(seasonalNaive([1, 2, 3, 4, 5, 6], 3, 5)).toEqual([4, 5, 6, 4, 5]);
  });
});
