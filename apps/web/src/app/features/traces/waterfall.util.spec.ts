import { describe, expect, it } from 'vitest';
import type { Span } from '../../core/api/api.types';
import { formatMicros, waterfall } from './waterfall.util';

const span = (spanId: string, parentSpanId: string, startTimeUs: number, durationUs: number): Span => ({
  traceId: 't',
  spanId,
  parentSpanId,
  name: spanId,
  serviceName: 'svc',
  deviceId: '',
  kind: 'INTERNAL',
  startTime: '',
  startTimeUs,
  durationUs,
  status: 'OK',
  statusMessage: '',
  attributes: [],
});

describe('waterfall', () => {
  it('orders spans as a tree (children under parents, siblings by start) with bars on one axis', () => {
    const rows = waterfall([
      span('c2', 'root', 600, 200),
      span('root', '', 0, 1000),
      span('c1', 'root', 100, 300),
      span('g1', 'c1', 150, 100),
    ]);
    expect(rows.map((r) => [r.span.spanId, r.depth])).toEqual([
      ['root', 0],
      ['c1', 1],
      ['g1', 2],
      ['c2', 1],
    ]);
    expect(rows.map((r) => [r.offsetPct, r.widthPct])).toEqual([
      [0, 100],
      [10, 30],
      [15, 10],
      [60, 20],
    ]);
  });

  it('shows spans whose parent is missing as roots, and survives a self-parent', () => {
    const rows = waterfall([span('a', 'gone', 0, 10), span('b', 'b', 5, 5)]);
    expect(rows.map((r) => [r.span.spanId, r.depth])).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect(waterfall([])).toEqual([]);
  });

  it('formats durations', () => {
    expect(formatMicros(850)).toBe('850 µs');
    expect(formatMicros(2500)).toBe('2.50 ms');
    expect(formatMicros(125_000)).toBe('125.0 ms');
    expect(formatMicros(3_200_000)).toBe('3.20 s');
  });
});
