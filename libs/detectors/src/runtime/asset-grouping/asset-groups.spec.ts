import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../seeded-random.util.js';
import { assetAnomaly, AssetGroups } from './asset-groups.js';

const lifecycle = {
  trainRows: 400,
  coldStartRows: 0,
  coldStartMarginFactor: 3,
  refitRows: 0,
  driftRows: 0,
  driftRatio: 2,
};

/** Two pumps on one header: each row of each pump follows the shared demand, plus its own noise. */
function skid(n: number, seed: number, imbalanceFrom = Infinity) {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const demand = random() - 0.5;
    // From `imbalanceFrom` pump-b takes over part of pump-a's flow.
    const shift = i >= imbalanceFrom ? 0.6 : 0;
    return {
      a: [demand - shift + 0.1 * (random() - 0.5), demand + 0.1 * (random() - 0.5)],
      b: [demand + shift + 0.1 * (random() - 0.5), demand + 0.1 * (random() - 0.5)],
    };
  });
}

describe('AssetGroups', () => {
  it('scores the devices of one asset together, row by row, once every member has delivered its row', () => {
    const groups = new AssetGroups({
      metrics: ['flow', 'current'],
      stepMs: 1000,
      lifecycle,
      maxWaitRows: 30,
    });
    groups.assign('pump-b', 'skid-1');
    groups.assign('pump-a', 'skid-1');
    groups.assign('pump-c', 'skid-2');
    expect(groups.groups).toEqual([{ assetId: 'skid-1', members: ['pump-a', 'pump-b'] }]);
    // A device alone in its asset is not grouped: its own group model covers it.
    expect(groups.push('pump-c', 1000, [0, 0])).toEqual([]);
    expect(groups.push('pump-a', 1000, [1, 2])).toEqual([]);
    const [row] = groups.push('pump-b', 1000, [3, 4]);
    expect(row!.assetId).toBe('skid-1');
    expect(row!.features).toEqual(['pump-a/flow', 'pump-a/current', 'pump-b/flow', 'pump-b/current']);
  });

  it('flags one pump taking over part of its twin’s load as an anomaly of the asset', () => {
    const groups = new AssetGroups({
      metrics: ['flow', 'current'],
      stepMs: 1000,
      lifecycle,
      maxWaitRows: 30,
    });
    groups.assign('pump-a', 'skid-1');
    groups.assign('pump-b', 'skid-1');
    const data = skid(1000, 1, 700);
    const anomalies = data.flatMap((r, i) => {
      const t = (i + 1) * 1000;
      groups.push('pump-a', t, r.a);
      return groups.push('pump-b', t, r.b).flatMap((row) => assetAnomaly(row, 1000) ?? []);
    });
    const before = anomalies.filter((a) => a.timestampMs <= 700_000);
    const after = anomalies.filter((a) => a.timestampMs > 700_000);
    expect(before.length).toBeLessThan(5);
    expect(after.length).toBeGreaterThan(250);
    expect(after.every((a) => a.assetId === 'skid-1' && a.modelId === 'asset-group:skid-1')).toBe(true);
    expect(after[0]!.contributions[0]!.metric).toMatch(/^pump-[ab]\/flow$/);
    expect(after[0]!.contributions).toHaveLength(4);
  });

  it('starts an asset over when its membership changes', () => {
    const groups = new AssetGroups({ metrics: ['flow'], stepMs: 1000, lifecycle, maxWaitRows: 30 });
    groups.assign('pump-a', 'skid-1');
    groups.assign('pump-b', 'skid-1');
    groups.assign('pump-b', 'skid-2');
    expect(groups.groups).toEqual([]);
  });
});
