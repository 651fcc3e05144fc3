import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../seeded-random.util.js';
import { GroupLifecycle, type GroupLifecycleOptions, type LifecycleEvent } from './group-lifecycle.js';

/** Two correlated metrics around 0 (a device's baseline-relative rows); `shift` moves the first one. */
function rows(n: number, seed: number, shift = 0, noise = 1): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const common = random() - 0.5;
    return [common + 0.3 * noise * (random() - 0.5) + shift, 2 * common + 0.3 * noise * (random() - 0.5)];
  });
}

const options: GroupLifecycleOptions = {
  features: ['a', 'b'],
  trainRows: 400,
  coldStartRows: 60,
  coldStartMarginFactor: 3,
  refitRows: 600,
  driftRows: 300,
  driftRatio: 2,
};

function feed(life: GroupLifecycle<number>, data: number[][], from = 0) {
  const events: Array<LifecycleEvent & { row: number }> = [];
  const alarms: number[] = [];
  data.forEach((r, i) => {
    const event = life.push(r, from + i);
    if (event) events.push({ ...event, row: from + i });
    if (life.last?.anomalous) alarms.push(from + i);
  });
  return { events, alarms };
}

describe('GroupLifecycle', () => {
  it('scores a new device from its first minutes: cold-start fits at 60, 120, 240 rows, the full fit at 400', () => {
    const life = new GroupLifecycle<number>(options);
    const { events, alarms } = feed(life, rows(900, 1));
    const fits = events.filter((e) => e.kind === 'fit');
    expect(fits.map((e) => [e.kind === 'fit' && e.stage, e.kind === 'fit' && e.rows])).toEqual([
      ['cold-start', 60],
      ['cold-start', 120],
      ['cold-start', 240],
      ['full', 400],
    ]);
    // Rows become clean 30 rows after they arrive: the first fit comes at row 90.
    expect(fits[0]!.row).toBe(89);
    expect(life.coldStart).toBe(false);
    expect(alarms.length).toBeLessThan(9);
  });

  it('flags a fault in the first minutes and never learns it: the full fit waits for clean rows', () => {
    const life = new GroupLifecycle<number>(options);
    const data = [...rows(180, 2), ...rows(600, 3, 3)];
    const { events, alarms } = feed(life, data);
    expect(alarms.filter((r) => r >= 180).length).toBeGreaterThan(550);
    expect(Math.min(...alarms.filter((r) => r >= 180))).toBeLessThan(180 + 30);
    // No fit after the fault started: its rows stay in quarantine while it alarms.
    expect(events.filter((e) => e.kind === 'fit').every((e) => e.row < 180 + 30)).toBe(true);
    expect(life.coldStart).toBe(true);
    // Clean rows handed to the autoencoder's training: only rows from before the fault.
    expect(Math.max(...life.takeClean())).toBeLessThan(180);
  });

  it('retrains on schedule after a quiet stretch, validated before the swap', () => {
    const life = new GroupLifecycle<number>({ ...options, driftRows: 0, refitRows: 300 });
    const { events, alarms } = feed(life, rows(1100, 4));
    const refits = events.filter((e) => e.kind === 'refit');
    expect(refits.length).toBeGreaterThan(0);
    // Only after 300 rows without an alarm.
    for (const r of refits) expect(alarms.filter((a) => a > r.row - 300 && a <= r.row)).toEqual([]);
    const refit = refits[0]!;
    if (refit.kind !== 'refit') throw new Error('not a refit');
    expect(refit.reason).toBe('schedule');
    expect(refit.decision.validationRows).toBe(75);
    expect(refit.decision.candidate.meanDetection).toBeGreaterThan(0.5);
  });

  it('retrains early on detected drift (scores creeping up without alarms) and swaps in the better model', () => {
    const life = new GroupLifecycle<number>({ ...options, refitRows: 0, driftRatio: 1.5 });
    // The second metric's noise doubles: rows are still within the alarm margin, but typical scores rise.
    const { events, alarms } = feed(life, [...rows(600, 5), ...rows(900, 6, 0, 2.5)]);
    const drifts = events.filter((e) => e.kind === 'refit' && e.reason === 'drift');
    expect(drifts.length, JSON.stringify(events.map((e) => e.kind))).toBeGreaterThan(0);
    const first = drifts[0]!;
    if (first.kind !== 'refit') throw new Error('no drift refit');
    expect(first.drift!.recentMean).toBeGreaterThanOrEqual(1.5 * first.drift!.heldOutMean);
    expect(first.decision.swapped).toBe(true);
    const last = drifts.at(-1)!;
    if (last.kind !== 'refit') throw new Error('no drift refit');
    expect(life.model!.state.modelVersion).toBe(last.decision.model.state.modelVersion);
    expect(alarms.filter((r) => r > first.row).length).toBeLessThan(5);
  });
});
