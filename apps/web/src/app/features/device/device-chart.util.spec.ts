import { describe, expect, it } from 'vitest';
import type { Series } from '../../core/api/api.types';
import { relativeTime } from '../../shared/ui/relative-time.pipe';
import { deviceChartOption, formatDuration, mergeLive, pointsSummary } from './device-chart.util';

const series: Series = {
  device: 'pump-0001',
  metric: 'flow_rate',
  agg: 'avg',
  resolution: 'raw',
  stepMs: 1000,
  from: '2026-11-30T12:00:00.000Z',
  to: '2026-11-30T12:00:02.000Z',
  points: [
    { ts: '2026-11-30T12:00:00.000Z', value: 1 },
    { ts: '2026-11-30T12:00:01.000Z', value: 2 },
  ],
};

describe('device charts', () => {
  it('appends only live samples newer than the last fetched bucket', () => {
    const t = Date.parse('2026-11-30T12:00:01.000Z');
    const merged = mergeLive(series, [
      [t - 500, 9],
      [t, 9],
      [t + 1000, 3],
    ]);
    expect(merged.map((p) => p.value)).toEqual([1, 2, 3]);
    expect(mergeLive(series, [])).toBe(series.points);
  });

  it('marks anomaly windows at least one step wide, labelled with the leading metrics', () => {
    const start = '2026-11-30T12:00:01.000Z';
    const option = deviceChartOption(
      series,
      'm3/h',
      { fromMs: 0, toMs: 1 },
      [
        {
          ts: start,
          deviceId: 'pump-0001',
          windowStart: start,
          windowEnd: start,
          score: 3.14159,
          threshold: 1,
          modelVersion: 'v1',
          contributions: [
            { metric: 'flow_rate', error: 2 },
            { metric: 'discharge_pressure', error: 1 },
          ],
        },
      ],
      undefined,
    );
    const area = (
      option.series as Array<{ markArea?: { data: Array<Array<{ xAxis: number; name?: string }>> } }>
    )[0]!.markArea!.data[0]!;
    expect(area[1]!.xAxis - area[0]!.xAxis).toBe(1000);
    expect(area[0]!.name).toBe('anomaly 3.14 (flow_rate, discharge_pressure)');
  });

  it('formats times to failure and ages', () => {
    expect(formatDuration(45 * 60_000)).toBe('45 min');
    expect(formatDuration(200 * 60_000)).toBe('3 h 20 min');
    expect(formatDuration(52 * 3_600_000)).toBe('2 d 4 h');
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(relativeTime(null, now)).toBe('never');
    expect(relativeTime('2026-11-30T11:59:48Z', now)).toBe('12 s ago');
    expect(relativeTime('2026-11-30T11:57:00Z', now)).toBe('3 min ago');
    expect(relativeTime('2026-11-28T11:00:00Z', now)).toBe('2 d ago');
  });

  it('says what the chart header counts: buckets fetched, live samples after them, what is drawn', () => {
    const t = (s: number) => Date.parse('2026-11-30T12:00:00.000Z') + s * 1000;
    expect(pointsSummary(series)).toBe('2 buckets drawn');
    // A push at or before the last bucket is already inside it; newer ones are drawn on top.
    expect(
      pointsSummary(series, [
        [t(1), 5],
        [t(2), 6],
        [t(3), 7],
      ]),
    ).toBe('2 buckets + 2 live samples drawn');
    const long = {
      ...series,
      points: Array.from({ length: 5000 }, (_, i) => ({ ts: new Date(t(i)).toISOString(), value: i })),
    };
    expect(pointsSummary(long)).toBe('5,000 buckets, 2,000 drawn (LTTB)');
  });
});
