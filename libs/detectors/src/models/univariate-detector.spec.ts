import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { UnivariateDetector, univariateOptionsFor } from './univariate-detector.js';

function noise(n: number, seed: number, level = 20): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, t) => level + Math.sin(t / 20) + (random() - 0.5));
}

describe('UnivariateDetector', () => {
  it('alerts once at a spike, not on noise, with scores in [0, 1]', () => {
    const values = noise(2000, 1);
    values[1500] = 35;
    const detector = new UnivariateDetector(univariateOptionsFor(300));
    const scores = values.map((v, i) => detector.push(v, i < 300));
    const alerts = scores.flatMap((s, i) => (s.anomalous ? [i] : []));
    expect(alerts).toEqual([1500]);
    expect(scores.every((s) => s.calibrated >= 0 && s.calibrated <= 1)).toBe(true);
    expect(scores.slice(0, 300).every((s) => !s.anomalous)).toBe(true);
  });

  it('alerts on a level shift, then learns the new level when learning continues', () => {
    const values = noise(3000, 2).map((v, t) => (t >= 1200 ? v + 5 : v));
    const detector = new UnivariateDetector(univariateOptionsFor(300));
    const scores = values.map((v, i) => detector.push(v, i < 300));
    const alerts = scores.flatMap((s, i) => (s.anomalous ? [i] : []));
    expect(alerts[0]).toBeGreaterThanOrEqual(1200);
    expect(alerts[0]).toBeLessThan(1210);
    expect(alerts.filter((a) => a > 1800)).toEqual([]);
  });

  it('does not treat every change after a perfectly flat warm-up as infinitely surprising', () => {
    const detector = new UnivariateDetector(univariateOptionsFor(100));
    for (let i = 0; i < 100; i++) detector.push(7, true);
    const score = detector.push(7.000001);
    expect(Number.isFinite(score.raw)).toBe(true);
    expect(score.anomalous).toBe(false);
  });

  it('scores a value landing beyond every learned value through its range member, not the normal rows', () => {
    const values = noise(1200, 12);
    const top = Math.max(...values.slice(0, 1000));
    for (let t = 1000; t < 1020; t++) values[t] = top + 2;
    const detector = new UnivariateDetector(univariateOptionsFor(300));
    const scores = values.map((v, i) => detector.push(v, i < 300));
    expect(scores.slice(300, 1000).every((s) => s.members.range < 0.999 && !s.anomalous)).toBe(true);
    expect(scores.slice(1000, 1005).some((s) => s.members.range > 0.999)).toBe(true);
    expect(scores.slice(1000, 1005).some((s) => s.anomalous)).toBe(true);
  });
});
