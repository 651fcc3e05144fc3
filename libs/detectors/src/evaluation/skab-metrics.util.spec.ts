import { describe, expect, it } from 'vitest';
import {
  addNabTally,
  binaryMetrics,
  confusion,
  labelsToChangepoints,
  nabScores,
  nabTally,
} from './skab-metrics.util.js';

const seconds = (n: number) => Array.from({ length: n }, (_, i) => i * 1000);
const at = (n: number, ones: number[]) => Array.from({ length: n }, (_, i) => (ones.includes(i) ? 1 : 0));

describe('binary metrics', () => {
  it('pools counts and uses SKAB definitions', () => {
    const c = confusion([1, 1, 0, 0, 1], [1, 0, 1, 0, 1]);
    expect(c).toEqual({ tp: 2, fn: 1, fp: 1, tn: 1 });
    const m = binaryMetrics(c);
    expect(m.f1).toBeCloseTo(2 / (2 + 1), 10);
    expect(m.far).toBeCloseTo(50, 10);
    expect(m.mar).toBeCloseTo(100 / 3, 10);
  });
});

describe('labelsToChangepoints', () => {
  it('marks every switch, and a series that starts anomalous', () => {
    expect(labelsToChangepoints([1, 1, 0, 0, 1, 1])).toEqual([1, 0, 1, 0, 1, 0]);
  });
});

describe('NAB (SKAB protocol)', () => {
  const t = seconds(300);
  const cps = at(300, [100]);

  it('scores a detection at the changepoint as perfect and none at all as null', () => {
    expect(
      nabScores(nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, [100]) }, 60_000)),
    ).toEqual({
      standard: 100,
      lowFp: 100,
      lowFn: 100,
    });
    expect(
      nabScores(nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, []) }, 60_000)),
    ).toEqual({
      standard: 0,
      lowFp: 0,
      lowFn: 0,
    });
  });

  it('rewards early detections more than late ones, counts only the first, and charges each false positive', () => {
    const early = nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, [105, 110]) }, 60_000);
    const late = nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, [155]) }, 60_000);
    expect(early.standard.score).toBeGreaterThan(late.standard.score);
    expect(early.standard.score).toBeLessThan(1);
    // The window is [cp, cp + 60 s] inclusive: a detection 61 s after is a false positive and the window a miss.
    const outside = nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, [20, 161]) }, 60_000);
    expect(outside.standard.score).toBeCloseTo(-1 - 2 * 0.11, 10);
    expect(outside.lowFp.score).toBeCloseTo(-1 - 2 * 0.22, 10);
    expect(outside.lowFn.score).toBeCloseTo(-2 - 2 * 0.11, 10);
  });

  it('pushes the start of an overlapping later window to the end of the earlier one', () => {
    // Windows [100, 160] and [130, 190] become [100, 160] and [160, 190]: a hit at 140 only counts for the first.
    const tally = nabTally(
      { timestampsMs: t, changepoints: at(300, [100, 130]), predicted: at(300, [140]) },
      60_000,
    );
    expect(tally.standard.perfect).toBe(2);
    expect(tally.standard.score).toBeLessThan(0);
    expect(tally.standard.score).toBeGreaterThan(-1);
  });

  it('normalises over the tally of all files together', () => {
    const hit = nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, [100]) }, 60_000);
    const miss = nabTally({ timestampsMs: t, changepoints: cps, predicted: at(300, []) }, 60_000);
    expect(nabScores(addNabTally(hit, miss)).standard).toBeCloseTo(50, 10);
  });
});
