import { describe, expect, it } from 'vitest';
import { Random } from './random.util.js';
import {
  dailyWave,
  decayFactor,
  HOUR_MS,
  hourOfDay,
  lagToward,
  ouStep,
  shiftActivity,
} from './signals.util.js';

describe('daily signals', () => {
  it('reads the UTC hour, also before the epoch', () => {
    expect(hourOfDay(Date.UTC(2025, 0, 1, 13, 30))).toBeCloseTo(13.5);
    expect(hourOfDay(-HOUR_MS)).toBeCloseTo(23);
  });

  it('peaks the wave at its peak hour and bottoms it twelve hours later', () => {
    expect(dailyWave(15, 15)).toBeCloseTo(1);
    expect(dailyWave(3, 15)).toBeCloseTo(-1);
  });

  it('runs full activity on the day shifts and a skeleton crew at night', () => {
    expect(shiftActivity(12)).toBe(1);
    expect(shiftActivity(2)).toBeCloseTo(0.4);
    expect(shiftActivity(23)).toBeCloseTo(0.4);
    expect(shiftActivity(6)).toBeGreaterThan(0.4);
    expect(shiftActivity(6)).toBeLessThan(1);
  });
});

describe('lagToward', () => {
  it('gives the same result for sixty 1 s steps as for one 60 s step', () => {
    let fine = 20;
    for (let i = 0; i < 60; i++) fine = lagToward(fine, 80, decayFactor(1000, 600_000));
    expect(fine).toBeCloseTo(lagToward(20, 80, decayFactor(60_000, 600_000)), 9);
  });

  it('settles straight onto the target for an infinite step', () => {
    expect(lagToward(0, 42, decayFactor(Number.POSITIVE_INFINITY, 1000))).toBe(42);
  });
});

describe('ouStep', () => {
  it('wanders with the requested stationary spread', () => {
    const rng = new Random(3);
    const decay = decayFactor(1000, 10_000);
    let x = 0;
    let sumSquares = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      x = ouStep(x, decay, 2, rng.normal());
      sumSquares += x * x;
    }
    expect(Math.sqrt(sumSquares / n)).toBeGreaterThan(1.7);
    expect(Math.sqrt(sumSquares / n)).toBeLessThan(2.3);
  });
});
