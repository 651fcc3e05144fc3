import { BadRequestException } from '@nestjs/common';
import type { Resolution } from '@sentio/clickhouse';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

const UNITS_MS: Record<string, number> = { s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };
/** Steps a chosen step snaps to, so buckets line up with the rollups whenever they can. */
const NICE_STEPS_MS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10_800, 21_600, 43_200, 86_400].map(
  (s) => s * SECOND_MS,
);
/** Points of a series when the caller leaves the step to us: enough for a chart, cheap to draw. */
const DEFAULT_POINTS = 300;

/** An instant given as epoch milliseconds or an ISO 8601 timestamp with a zone. */
export function parseInstant(name: string, value: string): number {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw new BadRequestException(`${name}: expected epoch milliseconds or an ISO 8601 time with a zone`);
}

/** A duration such as `30s`, `5m`, `1h`, `1d`, or plain seconds. */
export function parseDuration(name: string, value: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value);
  const ms = match ? Number(match[1]) * (UNITS_MS[match[2] || 's'] ?? SECOND_MS) : 0;
  if (ms <= 0)
    throw new BadRequestException(`${name}: expected a positive duration such as 30s, 5m, 1h or 1d`);
  return ms;
}

/** Validates a range against the limit; `to` defaults to now and `from` to `defaultSpanMs` before it. */
export function resolveRange(
  from: string | undefined,
  to: string | undefined,
  maxRangeMs: number,
  defaultSpanMs: number,
  nowMs = Date.now(),
): TimeRange {
  const toMs = to === undefined ? nowMs : parseInstant('to', to);
  const fromMs = from === undefined ? toMs - Math.min(defaultSpanMs, maxRangeMs) : parseInstant('from', from);
  if (fromMs >= toMs) throw new BadRequestException('from: expected a time before to');
  if (toMs - fromMs > maxRangeMs) {
    throw new BadRequestException(`to - from: expected at most ${maxRangeMs / DAY_MS} days`);
  }
  return { fromMs, toMs };
}

export function defaultStep(range: TimeRange): number {
  const span = range.toMs - range.fromMs;
  return NICE_STEPS_MS.find((step) => span / step <= DEFAULT_POINTS) ?? NICE_STEPS_MS.at(-1)!;
}

/**
 * The coarsest table whose buckets tile the step exactly: a rollup answers the same sums, counts, minima and
 * maxima as the raw rows at a fraction of the rows read (quantiles become t-digest estimates). The 5-minute
 * rollup exists only from version 2 of the metrics family on (built by a replay): `has5m` says whether it is live.
 */
export function chooseResolution(stepMs: number, has5m = false): Resolution {
  if (stepMs % HOUR_MS === 0) return '1h';
  if (has5m && stepMs % (5 * MINUTE_MS) === 0) return '5m';
  if (stepMs % MINUTE_MS === 0) return '1m';
  return 'raw';
}

/** Widens the range to whole steps, so every bucket of the answer is complete whatever table it comes from. */
export function alignRange(range: TimeRange, stepMs: number): TimeRange {
  return {
    fromMs: Math.floor(range.fromMs / stepMs) * stepMs,
    toMs: Math.ceil(range.toMs / stepMs) * stepMs,
  };
}

/**
 * The buckets of a count or series over a range: the step given (else about 300 points), and the range
 * widened to whole steps. More buckets than `maxBuckets` is refused before any query runs.
 */
export function bucketing(
  requested: TimeRange,
  step: string | undefined,
  maxBuckets: number,
): { range: TimeRange; stepMs: number } {
  const stepMs = step === undefined ? defaultStep(requested) : parseDuration('step', step);
  const range = alignRange(requested, stepMs);
  const buckets = (range.toMs - range.fromMs) / stepMs;
  if (buckets > maxBuckets) {
    throw new BadRequestException(
      `step: too small for the range, ${buckets} buckets exceed the limit of ${maxBuckets}`,
    );
  }
  return { range, stepMs };
}
