import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import {
  defaultForecastEvaluationOptions,
  emptyForecastTally,
  evaluateForecastSeries,
  summariseForecasts,
} from './forecast-evaluation.js';

describe('evaluateForecastSeries', () => {
  it('beats the naive forecast on a noisy level and covers about the nominal share with its intervals', () => {
    const random = seededRandom(9);
    const tally = emptyForecastTally();
    for (let s = 0; s < 20; s++) {
      // Each row is noise around a fixed level: 30-row means still wobble, and naive repeats the last wobble.
      const raw = Array.from({ length: 3000 }, () => 50 + 8 * (random() - 0.5));
      evaluateForecastSeries(raw, { ...defaultForecastEvaluationOptions, method: 'ses' }, tally);
    }
    const summary = summariseForecasts(tally);
    expect(summary.series).toBe(20);
    expect(summary.points).toBeGreaterThan(1000);
    expect(summary.mase).toBeLessThan(0.9);
    expect(summary.coverage95).toBeGreaterThan(0.85);
    expect(summary.coverage80).toBeLessThan(summary.coverage95);
  });

  it('lets damped Holt follow a steady warming that a level forecast lags', () => {
    const random = seededRandom(10);
    const raw = Array.from({ length: 6000 }, (_, t) => 40 + t / 200 + random() - 0.5);
    const holt = emptyForecastTally();
    const ses = emptyForecastTally();
    evaluateForecastSeries(raw, { ...defaultForecastEvaluationOptions, method: 'holt-damped' }, holt);
    evaluateForecastSeries(raw, { ...defaultForecastEvaluationOptions, method: 'ses' }, ses);
    expect(summariseForecasts(holt).mase).toBeLessThan(summariseForecasts(ses).mase);
    expect(summariseForecasts(holt).mase).toBeLessThan(1);
  });
});
