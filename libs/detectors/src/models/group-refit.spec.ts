import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { refitIfBetter } from './group-refit.js';
import { RobustGroupModel } from './robust-group-model.js';

function rows(n: number, seed: number, level: number, noise = 1): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const common = random() - 0.5;
    return [
      level + common + 0.3 * noise * (random() - 0.5),
      2 * level + 2 * common + 0.3 * noise * (random() - 0.5),
    ];
  });
}

describe('refitIfBetter', () => {
  it('swaps in a model of the new healthy operating point, validated on rows it did not see', () => {
    const current = RobustGroupModel.fit(['a', 'b'], rows(400, 1, 10));
    const decision = refitIfBetter(current, rows(800, 2, 14));
    expect(decision.currentAlarms).toBeGreaterThan(150);
    expect(decision.candidateAlarms).toBeLessThan(20);
    expect(decision.swapped).toBe(true);
    expect(decision.model).not.toBe(current);
  });

  it('keeps the model in use when the candidate would alarm more on the held-out rows', () => {
    const current = RobustGroupModel.fit(['a', 'b'], rows(400, 3, 10));
    // A quiet stretch to fit on, then a return to the usual level: the candidate learnt the wrong normal.
    const recent = [...rows(600, 4, 14), ...rows(200, 5, 10)];
    const decision = refitIfBetter(current, recent);
    expect(decision.candidateAlarms).toBeGreaterThan(decision.currentAlarms);
    expect(decision.swapped).toBe(false);
    expect(decision.model).toBe(current);
  });

  it('keeps the model in use when the candidate, fitted on a noisy stretch, would miss faults it catches', () => {
    const current = RobustGroupModel.fit(['a', 'b'], rows(400, 6, 10));
    // The candidate's three quarters are far noisier (a loose sensor, since fixed): it alarms on nothing,
    // which a false-alarm count alone would reward, and misses most of an offset the model in use sees.
    const recent = [...rows(600, 7, 10, 30), ...rows(200, 8, 10)];
    const decision = refitIfBetter(current, recent);
    expect(decision.candidateAlarms).toBeLessThanOrEqual(decision.currentAlarms);
    expect(decision.candidate.meanDetection).toBeLessThan(decision.current.meanDetection - 0.2);
    expect(decision.swapped).toBe(false);
    expect(decision.model).toBe(current);
  });
});
