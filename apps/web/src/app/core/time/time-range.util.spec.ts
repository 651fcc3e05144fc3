import { describe, expect, it } from 'vitest';
import {
  describeRange,
  niceStepSeconds,
  parseTime,
  refreshIntervalMs,
  resolveRange,
} from './time-range.util';

const NOW = Date.parse('2026-11-30T12:00:00Z');

describe('time range', () => {
  it('parses relative, epoch and ISO times', () => {
    expect(parseTime('now', NOW)).toBe(NOW);
    expect(parseTime('now-15m', NOW)).toBe(NOW - 15 * 60_000);
    expect(parseTime('now+1h', NOW)).toBe(NOW + 3_600_000);
    expect(parseTime('now-7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseTime(String(NOW - 5), NOW)).toBe(NOW - 5);
    expect(parseTime('2026-11-30T11:00:00Z', NOW)).toBe(NOW - 3_600_000);
    expect(parseTime('yesterday', NOW)).toBeUndefined();
    expect(parseTime('now-5x', NOW)).toBeUndefined();
  });

  it('falls back to the last hour for an unparseable or inverted range', () => {
    expect(resolveRange({ from: 'now-6h', to: 'now' }, NOW)).toEqual({
      fromMs: NOW - 6 * 3_600_000,
      toMs: NOW,
    });
    expect(resolveRange({ from: 'garbage', to: 'now' }, NOW)).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW });
    expect(resolveRange({ from: 'now', to: 'now-1h' }, NOW)).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW });
  });

  it('names presets and shows absolute ranges as times', () => {
    expect(describeRange({ from: 'now-24h', to: 'now' })).toBe('Last 24 hours');
    expect(describeRange({ from: String(NOW - 3_600_000), to: String(NOW) })).toBe(
      '2026-11-30 11:00 → 2026-11-30 12:00',
    );
  });

  it('picks a readable step for about 300 points, and refresh intervals', () => {
    expect(niceStepSeconds({ fromMs: 0, toMs: 3_600_000 })).toBe(15);
    expect(niceStepSeconds({ fromMs: 0, toMs: 86_400_000 })).toBe(300);
    expect(niceStepSeconds({ fromMs: 0, toMs: 1000 * 86_400_000 })).toBe(86400);
    expect(refreshIntervalMs('off')).toBeUndefined();
    expect(refreshIntervalMs('10s')).toBe(10_000);
    expect(refreshIntervalMs('1m')).toBe(60_000);
  });
});
