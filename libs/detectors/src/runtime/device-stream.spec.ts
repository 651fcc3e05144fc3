import { describe, expect, it } from 'vitest';
import { DeviceStream } from './device-stream.js';
import type { AssembledWindow } from './window-assembler.js';

const window = (startS: number, values: number[][]): AssembledWindow => ({
  deviceId: 'd',
  startMs: startS * 1000,
  endMs: (startS + values.length) * 1000,
  rows: values,
});

describe('DeviceStream', () => {
  it('takes each row relative to the baseline before it and counts every row once', () => {
    const stream = new DeviceStream({ stepMs: 1000, windowLength: 3, baselineTauRows: 2 });
    const first = stream.push(window(0, [[10], [12], [12]]));
    // Baseline starts at the first row, then moves half way (tau 2) towards each row.
    expect(first.rows).toEqual([[0], [2], [1]]);
    expect(first.added).toHaveLength(3);
    const next = stream.push(window(1, [[12], [12], [14]]));
    expect(next.added.map((r) => r.raw)).toEqual([[14]]);
    expect(next.rows).toEqual([[2], [1], [2.5]]);
  });

  it('feeds raw rows when the baseline is off', () => {
    const stream = new DeviceStream({ stepMs: 1000, windowLength: 2, baselineTauRows: 0 });
    expect(stream.push(window(0, [[5], [6]])).rows).toEqual([[5], [6]]);
  });

  it('counts flat runs per metric and restarts them after a gap', () => {
    const stream = new DeviceStream({ stepMs: 1000, windowLength: 2, baselineTauRows: 0 });
    stream.push(
      window(0, [
        [1, 5],
        [2, 5],
      ]),
    );
    expect(
      stream.push(
        window(1, [
          [2, 5],
          [3, 5],
        ]),
      ).flatRows,
    ).toEqual([1, 3]);
    const afterGap = stream.push(
      window(10, [
        [3, 5],
        [4, 5],
      ]),
    );
    expect(afterGap.flatRows).toEqual([1, 2]);
    expect(afterGap.rows).toEqual([
      [3, 5],
      [4, 5],
    ]);
  });

  it('follows a steady ramp without lag when it tracks the trend along known relations, where a moving average trails it', () => {
    const ramp = (options: { baselineTrendRows?: number }, related: boolean) => {
      const stream = new DeviceStream({ stepMs: 1000, windowLength: 1, baselineTauRows: 20, ...options });
      // One metric: any trend of it lies along its own relation.
      if (related) stream.relations = { scale: [1], direction: [1] };
      let last: number[] = [];
      for (let i = 0; i < 2000; i++)
        last = stream.push({ deviceId: 'd', startMs: i * 1000, endMs: (i + 1) * 1000, rows: [[0.5 * i]] })
          .added[0]!.residual;
      return last[0]!;
    };
    // A moving average trails a ramp by slope x tau (0.5 x 20 = 10); with the trend the lag goes.
    expect(ramp({}, true)).toBeCloseTo(10, 1);
    expect(Math.abs(ramp({ baselineTrendRows: 50 }, true))).toBeLessThan(0.01);
    // Until a group model says how the metrics move together, no trend is followed.
    expect(ramp({ baselineTrendRows: 50 }, false)).toBeCloseTo(10, 1);
  });

  it('keeps a glitch from dragging level and trend once the relations give the scales (baselineClip)', () => {
    const after = (clip: number) => {
      const stream = new DeviceStream({
        stepMs: 1000,
        windowLength: 1,
        baselineTauRows: 20,
        baselineTrendRows: 20,
        baselineClip: clip,
      });
      stream.relations = { scale: [1], direction: [1] };
      const row = (i: number, v: number) =>
        stream.push({ deviceId: 'd', startMs: i * 1000, endMs: (i + 1) * 1000, rows: [[v]] }).added[0]!
          .residual[0]!;
      for (let i = 0; i < 100; i++) row(i, 0);
      row(100, 1000);
      // Ten rows after a single sample 1,000 scales off, the level is back where it was with the clip.
      let last = 0;
      for (let i = 101; i < 110; i++) last = row(i, 0);
      return last;
    };
    expect(Math.abs(after(3))).toBeLessThan(1);
    expect(Math.abs(after(0))).toBeGreaterThan(10);
  });
});
