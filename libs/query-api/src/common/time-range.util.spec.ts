import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  alignRange,
  chooseResolution,
  DAY_MS,
  defaultStep,
  HOUR_MS,
  MINUTE_MS,
  parseDuration,
  parseInstant,
  resolveRange,
} from './time-range.util.js';

describe('time ranges', () => {
  it('reads epoch milliseconds and zoned ISO times, nothing else', () => {
    expect(parseInstant('from', '1700000000000')).toBe(1_700_000_000_000);
    expect(parseInstant('from', '2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1));
    for (const bad of ['yesterday', '2024-01-01', "1' OR 1=1 --", '-5', '2024-13-45T99:00:00Z']) {
      expect(() => parseInstant('from', bad)).toThrow(BadRequestException);
    }
  });

  it('reads durations and refuses zero or negative steps', () => {
    expect(parseDuration('step', '90')).toBe(90_000);
    expect(parseDuration('step', '5m')).toBe(5 * MINUTE_MS);
    expect(parseDuration('step', '2h')).toBe(2 * HOUR_MS);
    for (const bad of ['0', '0s', '-1m', '1w', '1.5m', '']) {
      expect(() => parseDuration('step', bad)).toThrow(BadRequestException);
    }
  });

  it('refuses reversed and too wide ranges', () => {
    expect(() => resolveRange('2000', '1000', DAY_MS, HOUR_MS)).toThrow(/before to/);
    expect(() => resolveRange('0', String(2 * DAY_MS), DAY_MS, HOUR_MS)).toThrow(/at most 1 days/);
    expect(resolveRange(undefined, undefined, DAY_MS, HOUR_MS, 10 * DAY_MS)).toEqual({
      fromMs: 10 * DAY_MS - HOUR_MS,
      toMs: 10 * DAY_MS,
    });
  });

  it('chooses the coarsest table that tiles the step', () => {
    expect(chooseResolution(30_000)).toBe('raw');
    expect(chooseResolution(90_000)).toBe('raw');
    expect(chooseResolution(5 * MINUTE_MS)).toBe('1m');
    expect(chooseResolution(HOUR_MS)).toBe('1h');
    expect(chooseResolution(DAY_MS)).toBe('1h');
    // With the 5-minute rollup live (metrics version 2 on).
    expect(chooseResolution(10 * MINUTE_MS, true)).toBe('5m');
    expect(chooseResolution(2 * MINUTE_MS, true)).toBe('1m');
    expect(chooseResolution(HOUR_MS, true)).toBe('1h');
  });

  it('picks a default step from the range, and widens ranges to whole steps', () => {
    expect(defaultStep({ fromMs: 0, toMs: HOUR_MS })).toBe(30_000);
    expect(defaultStep({ fromMs: 0, toMs: 30 * DAY_MS })).toBe(3 * HOUR_MS);
    expect(alignRange({ fromMs: 61_000, toMs: 119_000 }, MINUTE_MS)).toEqual({
      fromMs: 60_000,
      toMs: 120_000,
    });
  });
});
