import type { TelemetrySample } from '@sentio/events';
import {
  ItemProblem,
  type Located,
  METRIC_NAME,
  type MappingOptions,
  OTLP_SOURCE,
  alone,
  checkTime,
  deviceOf,
  flatten,
  list,
  nanos,
  object,
  stableEventId,
  walk,
  withService,
  without,
} from './otlp-mapping.util.js';
import type { OtlpMapped, OtlpRejection } from './otlp.type.js';

// OTLP metric data points onto telemetry samples.
interface OtlpDataPoint {
  attributes?: unknown;
  timeUnixNano?: unknown;
  asDouble?: unknown;
  asInt?: unknown;
  count?: unknown;
  sum?: unknown;
  flags?: unknown;
}

interface OtlpMetric {
  name?: unknown;
  unit?: unknown;
  gauge?: { dataPoints?: unknown };
  sum?: { dataPoints?: unknown };
  histogram?: { dataPoints?: unknown };
  exponentialHistogram?: { dataPoints?: unknown };
  summary?: { dataPoints?: unknown };
}

/** OTLP's DataPointFlags.NO_RECORDED_VALUE: the point marks a gap, e.g. a stale series. */
const NO_RECORDED_VALUE = 1;

/**
 * Gauge and sum points become one sample each (a sum's value as reported: cumulative or delta, per the
 * sender's temporality). Histogram, exponential histogram and summary points become `<name>.count` and
 * `<name>.sum` samples; their buckets and quantiles are not mapped. Rejection is per data point.
 */
export function mapMetrics(request: unknown, options: MappingOptions): OtlpMapped<TelemetrySample> {
  const points: Array<{ at: Located<OtlpMetric>; point: OtlpDataPoint; kind: 'number' | 'distribution' }> =
    [];
  for (const at of walk<OtlpMetric>('metrics', request)) {
    const m = at.item;
    const numbers = m.gauge ?? m.sum;
    const distribution = m.histogram ?? m.exponentialHistogram ?? m.summary;
    if (numbers) {
      for (const p of list(numbers.dataPoints, 'dataPoints'))
        points.push({ at, point: object<OtlpDataPoint>(p, 'dataPoints'), kind: 'number' });
    } else if (distribution) {
      for (const p of list(distribution.dataPoints, 'dataPoints'))
        points.push({ at, point: object<OtlpDataPoint>(p, 'dataPoints'), kind: 'distribution' });
    }
  }
  const records: TelemetrySample[] = [];
  const rejected: OtlpRejection[] = [];
  for (const { at, point, kind } of points) {
    try {
      records.push(...mapDataPoint(at, point, kind, options));
    } catch (error) {
      if (!(error instanceof ItemProblem)) throw error;
      const data = (['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const).find(
        (k) => at.item[k] !== undefined,
      )!;
      const metric = { ...at.item, [data]: { ...at.item[data], dataPoints: [point] } };
      rejected.push({ reason: error.message, request: alone('metrics', at, metric), key: null });
    }
  }
  return { items: points.length, records, rejected };
}

function mapDataPoint(
  { item: metric, resourceAttributes }: Located<OtlpMetric>,
  point: OtlpDataPoint,
  kind: 'number' | 'distribution',
  options: MappingOptions,
): TelemetrySample[] {
  const name = typeof metric.name === 'string' ? metric.name : '';
  if (!METRIC_NAME.test(name)) throw new ItemProblem(`metric ${JSON.stringify(name)} is not a metric name`);
  const pointAttributes = flatten(point.attributes, 'dataPoint');
  const device = deviceOf(options, pointAttributes, resourceAttributes);
  if (!device) throw new ItemProblem(`no device id: none of ${options.deviceIdAttributes.join(', ')} is set`);
  const time = nanos(point.timeUnixNano, 'timeUnixNano');
  const timestampMs = Number(time / 1_000_000n);
  checkTime(timestampMs, 'timeUnixNano', options.nowMs);
  const labels = withService(without(pointAttributes, device.attribute), resourceAttributes);
  const unit = typeof metric.unit === 'string' && metric.unit !== '' ? metric.unit : null;
  const missing = (Number(point.flags ?? 0) & NO_RECORDED_VALUE) !== 0;
  const sample = (metricName: string, value: number | null, sampleUnit: string | null): TelemetrySample => {
    if (value !== null && !Number.isFinite(value))
      throw new ItemProblem(`value ${value} of ${metricName} is not a finite number`);
    return {
      eventId: stableEventId('sample', device.id, metricName, time.toString(), labels),
      deviceId: device.id,
      timestampMs,
      metric: metricName,
      value,
      unit: sampleUnit,
      quality: value === null ? 'BAD' : 'GOOD',
      labels,
      source: OTLP_SOURCE,
    };
  };
  if (kind === 'number') {
    if (missing) return [sample(name, null, unit)];
    const value = point.asDouble ?? point.asInt;
    if (value === undefined || value === null) throw new ItemProblem('data point has no value');
    return [sample(name, Number(value), unit)];
  }
  const count = missing ? null : Number(point.count ?? 0);
  const samples = [sample(`${name}.count`, count, null)];
  if (missing || (point.sum !== undefined && point.sum !== null))
    samples.push(sample(`${name}.sum`, missing ? null : Number(point.sum), unit));
  return samples;
}
