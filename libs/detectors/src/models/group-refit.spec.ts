import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { refitIfBetter } from './group-refit.js';
import { RobustGroupModel } from './robust-group-model.js';

function rows(n: number, seed: number, level: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const common = random() - 0.5;
    return [level + common + 0.3 * (random() - 0.5), 2 * level + 2 * common + 0.3 * (random() - 0.5)];
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
});
