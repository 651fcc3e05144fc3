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

  it('follows a steady ramp without lag when it tracks the trend, where a moving average trails it', () => {
    const ramp = (options: { baselineTrendRows?: number }) => {
      const stream = new DeviceStream({ stepMs: 1000, windowLength: 1, baselineTauRows: 20, ...options });
      let last: number[] = [];
      for (let i = 0; i < 2000; i++)
        last = stream.push({ deviceId: 'd', startMs: i * 1000, endMs: (i + 1) * 1000, rows: [[0.5 * i]] })
          .added[0]!.residual;
      return last[0]!;
    };
    // A moving average trails a ramp by slope x tau (0.5 x 20 = 10); with the trend the lag goes.
    expect(ramp({})).toBeCloseTo(10, 1);
    expect(Math.abs(ramp({ baselineTrendRows: 50 }))).toBeLessThan(0.01);
  });
});
