import { describe, expect, it } from 'vitest';
import { WindowAssembler, type AssembledWindow } from './window-assembler.js';

const options = {
  metrics: ['a', 'b'],
  stepMs: 1000,
  windowLength: 3,
  allowedLatenessMs: 2000,
  maxFillSteps: 1,
};

function feed(assembler: WindowAssembler, samples: Array<[string, number, number]>, device = 'd1') {
  const windows: AssembledWindow[] = [];
  for (const [metric, timestampMs, value] of samples)
    windows.push(...assembler.add({ deviceId: device, metric, timestampMs, value }));
  return windows;
}

describe('WindowAssembler', () => {
  it('averages samples per step and emits sliding windows once steps close by event time', () => {
    const assembler = new WindowAssembler(options);
    const windows = feed(assembler, [
      ['a', 0, 1],
      ['a', 500, 3],
      ['b', 100, 10],
      ['a', 1200, 4],
      ['b', 1300, 20],
      ['a', 2100, 5],
      ['b', 2200, 30],
      ['a', 3000, 6],
      ['b', 3000, 40],
    ]);
    expect(windows).toEqual([]); // the watermark (3000 - 2000) has closed only step 0
    const later = feed(assembler, [['a', 5500, 7]]);
    expect(later).toEqual([
      {
        deviceId: 'd1',
        startMs: 0,
        endMs: 3000,
        rows: [
          [2, 10],
          [4, 20],
          [5, 30],
        ],
      },
    ]);
  });

  it('accepts out-of-order samples within the lateness, drops later ones and fills a short gap', () => {
    const assembler = new WindowAssembler(options);
    feed(assembler, [
      ['a', 1500, 1],
      ['b', 1500, 1],
      ['a', 500, 2], // out of order but within 2 s: still step 0
      ['b', 500, 2],
      ['a', 3100, 3], // watermark 1100: closes step 0
      ['b', 3100, 3],
      ['a', 200, 99], // step 0 is closed: late
    ]);
    expect(assembler.stats.late).toBe(1);
    // Step 2 had no sample: it repeats step 1 (one fill step allowed).
    expect(assembler.flush('d1').map((w) => w.rows)).toEqual([
      [
        [2, 2],
        [1, 1],
        [1, 1],
      ],
      [
        [1, 1],
        [1, 1],
        [3, 3],
      ],
    ]);
    expect(assembler.stats.gaps).toBe(0);
  });

  it('restarts the window after a gap longer than the fill limit', () => {
    const assembler = new WindowAssembler({ ...options, allowedLatenessMs: 0 });
    const samples: Array<[string, number, number]> = [];
    for (const t of [0, 1000, 2000, 6000, 7000, 8000, 9000]) samples.push(['a', t, t], ['b', t, -t]);
    const windows = [...feed(assembler, samples), ...assembler.flush('d1')];
    expect(windows.map((w) => w.startMs)).toEqual([0, 6000, 7000]);
    expect(assembler.stats.gaps).toBe(1);
  });

  it('keeps devices apart and ignores unknown metrics and null values', () => {
    const assembler = new WindowAssembler({ ...options, windowLength: 1, allowedLatenessMs: 0 });
    feed(
      assembler,
      [
        ['a', 0, 1],
        ['b', 0, 1],
        ['c', 0, 1],
      ],
      'd1',
    );
    feed(assembler, [['a', 5000, 2]], 'd2');
    assembler.add({ deviceId: 'd1', metric: 'a', timestampMs: 100, value: null });
    expect(assembler.stats.ignored).toBe(2);
    // d2's later clock does not close d1's steps.
    expect(assembler.flush('d1').map((w) => w.rows)).toEqual([[[1, 1]]]);
  });
});
