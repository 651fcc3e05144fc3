import { describe, expect, it } from 'vitest';
import { RobustGroupModel } from '../models/robust-group-model.js';
import { seededRandom } from '../seeded-random.util.js';
import { alignedShare, baselineRelations } from './baseline-relations.js';
import { DeviceStream } from './device-stream.js';

/** Rows of a machine whose first three metrics follow one load (plus noise); the fourth is noise alone. */
function machineRows(n: number, seed: number): number[][] {
  const random = seededRandom(seed);
  const noise = () => random() - 0.5;
  let load = 0;
  return Array.from({ length: n }, () => {
    load = 0.98 * load + 0.2 * noise();
    return [10 * load + noise(), 5 * load + 0.5 * noise(), 2 * load + 0.2 * noise(), noise()];
  });
}

describe('baseline relations', () => {
  const model = RobustGroupModel.fit(['flow', 'head', 'current', 'vibration'], machineRows(600, 3));
  const relations = baselineRelations(model);

  it('learns the load as the direction the training rows moved along', () => {
    const d = relations.direction.map(Math.abs);
    expect(Math.hypot(...d)).toBeCloseTo(1, 6);
    // The three load metrics carry the direction, the noise-only one hardly.
    for (const f of [0, 1, 2]) expect(d[f]!).toBeGreaterThan(0.45);
    expect(d[3]!).toBeLessThan(0.2);
  });

  it('calls the load metrics moving in their proportions aligned, a metric moving alone or against them not', () => {
    const { direction } = relations;
    const along = direction.slice(0, 3).map((d) => 2 * d);
    expect(alignedShare([...along, 0], direction)).toBeGreaterThan(0.9);
    // A metric outside the relation moving beside it (a lagging temperature) does not close the gate.
    expect(alignedShare([...along, 3], direction)).toBeGreaterThan(0.9);
    // The fourth metric alone (wear), or flow up while head falls (a leak): not how normal operation moves.
    expect(alignedShare([0, 0, 0, 3], direction)).toBeLessThan(0.5);
    expect(alignedShare([2, -2, 1, 0], direction)).toBeLessThan(0.5);
  });

  it('lets the baseline follow a ramp along the relations and keeps the lag of one across them', () => {
    const ramp = (slope: number[]) => {
      const stream = new DeviceStream({
        stepMs: 1000,
        windowLength: 1,
        baselineTauRows: 20,
        baselineTrendRows: 20,
      });
      stream.relations = relations;
      let last: number[] = [];
      for (let i = 0; i < 2000; i++)
        last = stream.push({
          deviceId: 'd',
          startMs: i * 1000,
          endMs: (i + 1) * 1000,
          rows: [slope.map((k) => k * i)],
        }).added[0]!.residual;
      return last;
    };
    // Along the load: no standing offset. Head alone (wear-like): the moving average's lag, slope x tau.
    for (const r of ramp([0.1, 0.05, 0.02, 0])) expect(Math.abs(r)).toBeLessThan(0.01);
    expect(ramp([0, 0.05, 0, 0])[1]).toBeCloseTo(1, 1);
  });
});
