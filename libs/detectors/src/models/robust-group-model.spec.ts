import { describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { RobustGroupModel } from './robust-group-model.js';

/** Two correlated noisy metrics around fixed levels. */
function normalRows(n: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const common = random() - 0.5;
    return [10 + common + 0.3 * (random() - 0.5), 50 + 2 * common + 0.3 * (random() - 0.5)];
  });
}

describe('RobustGroupModel', () => {
  it('stays quiet on more normal data and flags a sustained shift of one metric, naming it', () => {
    const model = RobustGroupModel.fit(['a', 'b'], normalRows(400, 1));
    const normal = model.scoreSeries(normalRows(600, 2));
    const falseAlarms = normal.slice(30).filter((s) => s.anomalous).length / 570;
    expect(falseAlarms).toBeLessThan(0.05);
    const shifted = normalRows(200, 3).map((r, i) => (i >= 100 ? [r[0]!, r[1]! + 3] : r));
    const scored = model.scoreSeries(shifted);
    expect(scored.slice(130).every((s) => s.anomalous)).toBe(true);
    expect(scored[150]!.contributions[1]).toBeGreaterThan(0.5);
    expect(scored[150]!.calibrated).toBeGreaterThan(0.5);
    expect(scored[150]!.calibrated).toBeLessThanOrEqual(1);
    expect(scored.slice(95, 135).some((s) => s.changepoint)).toBe(true);
  });

  it('gives a constant training slice a finite threshold: only a meaningful change alarms', () => {
    const model = RobustGroupModel.fit(['v'], new Array(100).fill([5]));
    expect(model.margin).toBeGreaterThan(0);
    const tiny = model.scoreSeries(new Array(60).fill([5.0001]));
    expect(tiny.some((s) => s.anomalous)).toBe(false);
    const moved = model.scoreSeries(new Array(60).fill([6]));
    expect(moved.at(-1)!.anomalous).toBe(true);
    expect(Number.isFinite(moved.at(-1)!.raw)).toBe(true);
  });

  it("with relationDirections, scores a move along the metrics' joint relation as normal and a break of it as a fault", () => {
    // A machine's load wanders slowly; the first two metrics follow it, the third is on its own.
    const random = seededRandom(6);
    const noise = () => random() - 0.5;
    let load = 0;
    const rows = (
      n: number,
      shift: (i: number) => number,
      extra: (i: number) => number[] = () => [0, 0, 0],
    ) =>
      Array.from({ length: n }, (_, i) => {
        load = 0.98 * load + 0.2 * noise();
        const common = load + shift(i);
        const e = extra(i);
        return [
          10 + common + 0.2 * noise() + e[0]!,
          50 + 2 * common + 0.4 * noise() + e[1]!,
          5 + 0.2 * noise() + e[2]!,
        ];
      });
    const features = ['flow', 'power', 'temperature'];
    // Enough rows for the relation's direction to be sure: a small error in it is magnified by a big move.
    const training = rows(2000, () => 0);
    const plain = RobustGroupModel.fit(features, training);
    const relational = RobustGroupModel.fit(features, training, { relationDirections: 1 });
    expect(relational.state.level.relations).toHaveLength(1);
    // Demand up by several times its usual swing: both metrics follow it the way they always did.
    const moreLoad = rows(120, (i) => (i >= 30 ? 2 : 0));
    expect(plain.scoreSeries(moreLoad).at(-1)!.anomalous).toBe(true);
    expect(
      relational
        .scoreSeries(moreLoad)
        .slice(30)
        .some((s) => s.anomalous),
    ).toBe(false);
    // Power up without flow: the relation breaks, shown in the two metrics of the relation, not elsewhere.
    const broken = rows(
      120,
      () => 0,
      (i) => [0, i >= 30 ? 2 : 0, 0],
    );
    const last = relational.scoreSeries(broken).at(-1)!;
    expect(last.anomalous).toBe(true);
    expect(last.contributions[1]).toBeGreaterThan(last.contributions[2]!);
    // A refit keeps the relations it is given rather than learning new ones from its own rows.
    const kept = RobustGroupModel.fit(
      features,
      rows(400, () => 0),
      { relationDirections: 1 },
      {
        relations: { correlation: relational.state.correlation, level: relational.state.level },
      },
    );
    expect(kept.state.level.relations).toEqual(relational.state.level.relations);
    expect(kept.state.level.spread).toEqual(relational.state.level.spread);
  });

  it("knows how sure a relation from a few minutes is: a load beyond training's is not read as a weak metric leaving it", () => {
    // Vibration follows the load too, but weakly under its noise: 300 rows show its share only roughly.
    const random = seededRandom(5);
    const noise = () => random() - 0.5;
    let load = 0;
    const rows = (n: number, shift: (i: number) => number, extra: (i: number) => number = () => 0) =>
      Array.from({ length: n }, (_, i) => {
        load = 0.98 * load + 0.2 * noise();
        const common = load + shift(i);
        return [
          10 + common + 0.1 * noise(),
          50 + 2 * common + 0.2 * noise(),
          3 + 0.15 * common + noise() + extra(i),
        ];
      });
    const model = RobustGroupModel.fit(
      ['flow', 'power', 'vibration'],
      rows(300, () => 0),
      {
        relationDirections: 1,
      },
    );
    expect(model.state.level.spread![0]![2]).toBeGreaterThan(5 * model.state.level.spread![0]![0]!);
    // Demand up by several times its training swing (97 alarms here without the spread).
    const moreLoad = model.scoreSeries(rows(150, (i) => (i >= 30 ? 2 : 0))).slice(30);
    expect(moreLoad.filter((s) => s.anomalous)).toEqual([]);
    // Vibration up on its own, the load unchanged: still a fault, named by vibration.
    const shaking = model
      .scoreSeries(
        rows(
          150,
          () => 0,
          (i) => (i >= 30 ? 1 : 0),
        ),
      )
      .at(-1)!;
    expect(shaking.anomalous).toBe(true);
    expect(shaking.contributions[2]).toBeGreaterThan(0.9);
  });

  it('round-trips through its state', () => {
    const model = RobustGroupModel.fit(['a', 'b'], normalRows(200, 4));
    const copy = RobustGroupModel.from(JSON.parse(JSON.stringify(model.state)));
    const rows = normalRows(50, 5);
    expect(copy.scoreSeries(rows).map((s) => s.raw)).toEqual(model.scoreSeries(rows).map((s) => s.raw));
    expect(copy.state.modelVersion).toMatch(/^[0-9a-f]{12}$/);
  });
});
