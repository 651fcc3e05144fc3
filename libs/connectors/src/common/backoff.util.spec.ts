import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.util.js';

describe('backoffMs', () => {
  it('doubles from the initial wait up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((attempt) => backoffMs(attempt, 1000, 10_000))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
  });
});
