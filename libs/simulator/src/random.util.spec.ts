import { describe, expect, it } from 'vitest';
import { mixSeed, Random } from './random.util.js';

const draw = (rng: Random, n: number, next: (r: Random) => number): number[] =>
  Array.from({ length: n }, () => next(rng));

describe('Random', () => {
  it('replays the same stream for the same seed and a different one for another seed', () => {
    expect(draw(new Random(42), 5, (r) => r.uniform())).toEqual(draw(new Random(42), 5, (r) => r.uniform()));
    expect(draw(new Random(42), 5, (r) => r.uniform())).not.toEqual(
      draw(new Random(43), 5, (r) => r.uniform()),
    );
  });

  it('draws uniforms in [0, 1) and standard normals', () => {
    const rng = new Random(7);
    const uniforms = draw(rng, 20_000, (r) => r.uniform());
    expect(Math.min(...uniforms)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uniforms)).toBeLessThan(1);
    const normals = draw(rng, 20_000, (r) => r.normal());
    const mean = normals.reduce((a, b) => a + b, 0) / normals.length;
    const sd = Math.sqrt(normals.reduce((a, b) => a + (b - mean) ** 2, 0) / normals.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd).toBeGreaterThan(0.97);
    expect(sd).toBeLessThan(1.03);
  });

  it('picks only from the list and refuses an empty one', () => {
    const rng = new Random(1);
    expect(['a', 'b']).toContain(rng.pick(['a', 'b']));
    expect(() => rng.pick([])).toThrow(/non-empty/);
  });
});

describe('mixSeed', () => {
  it('spreads neighbouring inputs to unrelated seeds', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => mixSeed(1, i)));
    expect(seeds.size).toBe(1000);
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });
});
