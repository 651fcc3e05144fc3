import type { TelemetrySample } from '@sentio/events';

// The ingest sink's own rules (libs/ingest record-validation), applied here as well so that a bad value
// is dead-lettered with its MQTT origin and raw payload rather than later as an opaque Avro record.
const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 24 * 3600 * 1000;

/** Why a sample the ingest sink would refuse cannot be published, or undefined when it can. */
export function sampleProblem(sample: TelemetrySample, nowMs: number): string | undefined {
  if (!METRIC_NAME.test(sample.metric)) return `metric ${JSON.stringify(sample.metric)} is not a metric name`;
  if (!Number.isSafeInteger(sample.timestampMs) || sample.timestampMs < EARLIEST_MS) {
    return `timestamp ${sample.timestampMs} is before 2000-01-01 (milliseconds expected)`;
  }
  if (sample.timestampMs > nowMs + MAX_FUTURE_MS)
    return `timestamp ${sample.timestampMs} is more than a day in the future`;
  return undefined;
}
