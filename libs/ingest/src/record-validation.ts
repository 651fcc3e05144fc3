import type {
  AlertEvent,
  Anomaly,
  DeviceLifecycle,
  DeviceLogRecord,
  Forecast,
  Span,
  TelemetrySample,
} from '@sentio/events';

/** Returns why a decoded record must not be projected, or undefined if it may. */
export type Validator<T> = (record: T, nowMs: number) => string | undefined;

const EARLIEST_MS = Date.UTC(2000, 0, 1);
/** Device clocks drift; a day ahead is tolerated, more is a broken clock or a unit error (us for ms). */
const MAX_FUTURE_MS = 24 * 3600 * 1000;
const NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;
const HEX = (digits: number) => new RegExp(`^[0-9a-f]{${digits}}$`);
const TRACE_ID = HEX(32);
const SPAN_ID = HEX(16);

function timestamp(ms: number, now: number, field = 'timestampMs'): string | undefined {
  if (!Number.isSafeInteger(ms) || ms < EARLIEST_MS)
    return `${field} ${ms} is before 2000-01-01 (milliseconds expected)`;
  if (ms > now + MAX_FUTURE_MS) return `${field} ${ms} is more than a day in the future`;
  return undefined;
}

function required(value: string, field: string): string | undefined {
  return value.trim().length === 0 ? `${field} is empty` : undefined;
}

export const validateTelemetry: Validator<TelemetrySample> = (r, now) =>
  required(r.eventId, 'eventId') ??
  required(r.deviceId, 'deviceId') ??
  (NAME.test(r.metric) ? undefined : `metric ${JSON.stringify(r.metric)} is not a metric name`) ??
  timestamp(r.timestampMs, now) ??
  (r.value !== null && !Number.isFinite(r.value) ? `value ${r.value} is not a finite number` : undefined) ??
  (r.value === null && r.quality !== 'BAD'
    ? `value is null but quality is ${r.quality}, not BAD`
    : undefined);

export const validateLog: Validator<DeviceLogRecord> = (r, now) =>
  required(r.eventId, 'eventId') ??
  required(r.deviceId, 'deviceId') ??
  timestamp(r.timestampMs, now) ??
  (r.traceId !== null && !TRACE_ID.test(r.traceId) ? 'traceId is not 32 hex digits' : undefined) ??
  (r.spanId !== null && !SPAN_ID.test(r.spanId) ? 'spanId is not 16 hex digits' : undefined);

export const validateSpan: Validator<Span> = (r, now) =>
  required(r.eventId, 'eventId') ??
  (TRACE_ID.test(r.traceId) ? undefined : 'traceId is not 32 hex digits') ??
  (SPAN_ID.test(r.spanId) ? undefined : 'spanId is not 16 hex digits') ??
  (r.parentSpanId !== null && r.parentSpanId !== '' && !SPAN_ID.test(r.parentSpanId)
    ? 'parentSpanId is not 16 hex digits'
    : undefined) ??
  required(r.name, 'name') ??
  timestamp(Math.floor(r.startTimeUs / 1000), now, 'startTimeUs/1000') ??
  (r.durationUs < 0 ? 'durationUs is negative' : undefined);

export const validateLifecycle: Validator<DeviceLifecycle> = (r, now) =>
  required(r.eventId, 'eventId') ?? required(r.deviceId, 'deviceId') ?? timestamp(r.timestampMs, now);

export const validateAnomaly: Validator<Anomaly> = (r, now) =>
  required(r.eventId, 'eventId') ??
  required(r.deviceId, 'deviceId') ??
  timestamp(r.timestampMs, now) ??
  (r.windowStartMs > r.windowEndMs ? 'windowStartMs is after windowEndMs' : undefined) ??
  (Number.isFinite(r.score) && Number.isFinite(r.threshold)
    ? undefined
    : 'score and threshold must be finite');

export const validateForecast: Validator<Forecast> = (r, now) =>
  required(r.eventId, 'eventId') ??
  required(r.deviceId, 'deviceId') ??
  timestamp(r.timestampMs, now) ??
  (r.points.every((p) => Number.isFinite(p.value) && p.lower <= p.upper)
    ? undefined
    : 'a point is not finite or has lower > upper');

export const validateAlert: Validator<AlertEvent> = (r, now) =>
  required(r.eventId, 'eventId') ?? required(r.alertId, 'alertId') ?? timestamp(r.timestampMs, now);
