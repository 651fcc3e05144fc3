import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { assessFailure } from './holt-forecaster.js';
import { bucketMeans, forecastMetric, forecastPoints } from './metric-forecaster.js';
import {
  defaultForecastEvaluationOptions,
  emptyForecastTally,
  evaluateForecastSeries,
  summariseForecasts,
} from './forecast-evaluation.js';

function gauss(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('forecastMetric', () => {
  it('forecasts a noisy level flat, without a trend, and widens its intervals with the horizon', () => {
    const random = seededRandom(3);
    const raw = Array.from({ length: 900 }, () => 50 + gauss(random));
    const f = forecastMetric(raw, 20, [0.8, 0.95]);
    expect(f.trendWeight).toBe(0);
    expect(f.intervalSource).toBe('conformal');
    expect(f.history).toHaveLength(30);
    expect(Math.abs(f.values[0]! - 50)).toBeLessThan(0.5);
    const i80 = f.intervals.get(0.8)!;
    const i95 = f.intervals.get(0.95)!;
    expect(i95.upper[0]! - i95.lower[0]!).toBeGreaterThan(i80.upper[0]! - i80.lower[0]!);
    expect(i80.upper[19]! - i80.lower[19]!).toBeGreaterThanOrEqual(i80.upper[0]! - i80.lower[0]!);
  });

  it('follows a steady warming with its trend, so the time to failure is found before the crossing', () => {
    const random = seededRandom(4);
    // 0.01 per row at 1 Hz (0.3 a bucket): crosses 66 at row 1,600, 700 rows (~23 buckets) after the history
    // ends; the damped trend (as before) flattens, so it reports the crossing somewhat later, never earlier.
    const raw = Array.from({ length: 900 }, (_, t) => 50 + 0.01 * t + 0.3 * gauss(random));
    const f = forecastMetric(raw, 60, [0.9]);
    expect(f.trendWeight).toBeGreaterThan(0);
    const points = forecastPoints(f, 0.9);
    const risk = assessFailure(f.history[f.history.length - 1]!, points, { upper: 66 });
    expect(risk.risk).toBe('HIGH');
    expect(risk.stepsToFailure!).toBeGreaterThan(20);
    expect(risk.limit).toBe('upper');
    expect(risk.stepsToFailure!).toBeLessThan(60);
  });

  it('leaves out missing readings and refuses a history shorter than three buckets', () => {
    const raw = Array.from({ length: 300 }, (_, t) => (t === 17 ? Number.NaN : 10 + (t % 3)));
    expect(forecastMetric(raw, 5, [0.8]).values.every(Number.isFinite)).toBe(true);
    expect(() => forecastMetric(raw.slice(0, 80), 5, [0.8])).toThrow(/at least 3 buckets/);
    expect(() => forecastMetric(raw, 5, [1.2])).toThrow(/interval level/);
  });

  it('buckets end at the newest row', () => {
    expect(bucketMeans([9, 1, 2, 3, 4], 2)).toEqual([1.5, 3.5]);
  });

  it('beats the naive forecast on random walks seen through noise, with intervals near their level', () => {
    const random = seededRandom(5);
    const tally = emptyForecastTally();
    for (let s = 0; s < 12; s++) {
      let level = 100;
      // A wandering process read by a noisy sensor: the last bucket mean carries noise a smoother averages out.
      const raw = Array.from({ length: 8000 }, () => (level += 0.05 * gauss(random)) + 3 * gauss(random));
      evaluateForecastSeries(raw, defaultForecastEvaluationOptions, tally);
    }
    const summary = summariseForecasts(tally);
    expect(summary.mase).toBeLessThan(1);
    expect(summary.meanMase).toBeLessThan(1);
    expect(summary.coverage80).toBeGreaterThan(0.7);
    expect(summary.coverage95).toBeGreaterThan(0.88);
    expect(summary.coverage80).toBeLessThan(summary.coverage95);
  });
});
