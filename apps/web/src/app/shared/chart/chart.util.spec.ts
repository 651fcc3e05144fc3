import { describe, expect, it } from 'vitest';
import { bucketCounts, timeChartOption } from './chart-options.util';
import { downsamplePairs, lttb } from './lttb.util';

describe('LTTB', () => {
  it('keeps the ends and the threshold, and passes short series through', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map((x) => Math.sin(x / 20));
    const [dx, dy] = lttb(xs, ys, 100);
    expect(dx.length).toBe(100);
    expect(dy.length).toBe(100);
    expect(dx[0]).toBe(0);
    expect(dx.at(-1)).toBe(999);
    expect(dx).toEqual([...dx].sort((a, b) => a - b));
    expect(lttb([1, 2, 3], [4, 5, 6], 10)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('keeps a one-sample spike that averaging would flatten', () => {
    const n = 100_000;
    const xs = Array.from({ length: n }, (_, i) => i * 1000);
    const ys = xs.map((_, i) => (i === 54_321 ? 500 : 10 + Math.sin(i / 50)));
    const [, dy] = lttb(xs, ys, 2000);
    expect(Math.max(...dy)).toBe(500);
    expect(Math.min(...dy)).toBeLessThan(9.01);
  });

  it('turns API points into [ms, value] pairs', () => {
    const points = [
      { ts: '2026-11-30T12:00:00.000Z', value: 1 },
      { ts: '2026-11-30T12:00:01.000Z', value: 2 },
    ];
    expect(downsamplePairs(points)).toEqual([
      [Date.parse(points[0]!.ts), 1],
      [Date.parse(points[1]!.ts), 2],
    ]);
  });
});

describe('chart options', () => {
  const range = { fromMs: 0, toMs: 60_000 };

  it('draws anomaly windows as areas and a forecast as band, line and limit', () => {
    const option = timeChartOption({
      series: [{ name: 'flow', points: [[0, 1]] }],
      range,
      anomalies: [{ fromMs: 10_000, toMs: 20_000, label: 'anomaly' }],
      forecast: {
        points: [
          { ts: 70_000, value: 5, lower: 4, upper: 7 },
          { ts: 80_000, value: 6, lower: 4.5, upper: 8 },
        ],
        limitUpper: 9,
        limitLower: null,
      },
    });
    const series = option.series as Array<Record<string, unknown>>;
    expect(series.map((s) => s['name'])).toEqual(['flow', 'forecast lower', 'forecast band', 'forecast']);
    expect((series[0]!['markArea'] as { data: unknown[] }).data).toEqual([
      [{ xAxis: 10_000, name: 'anomaly' }, { xAxis: 20_000 }],
    ]);
    // The band is stacked: lower, then the width up to the upper bound.
    expect(series[2]!['data']).toEqual([
      [70_000, 3],
      [80_000, 3.5],
    ]);
    expect((series[3]!['markLine'] as { data: unknown[] }).data).toEqual([{ yAxis: 9 }]);
    // The axis reaches the end of the forecast.
    expect((option.xAxis as { max: number }).max).toBe(80_000);
  });

  it('counts log lines per bucket, ignoring those outside the range', () => {
    expect(bucketCounts([0, 500, 15_000, 59_999, 60_000, -1], range, 15_000)).toEqual([
      [0, 2],
      [15_000, 1],
      [30_000, 0],
      [45_000, 1],
    ]);
  });
});
