import { createHash } from 'node:crypto';
import type { DeviceLogRecord, Span, TelemetrySample } from '@sentio/events';
import type {
  AnyValue,
  KeyValue,
  OtlpMapped,
  OtlpRejection,
  OtlpSignal,
  ResourceEntry,
  ScopeEntry,
} from './otlp.type.js';

/** The request is not an OTLP export request at all: the whole of it is refused with 400. */
export class OtlpDecodeError extends Error {}

/** One item cannot become an event: it alone is refused (partial success) and dead-lettered. */
class ItemProblem extends Error {}

export interface MappingOptions {
  deviceIdAttributes: readonly string[];
  nowMs: number;
}

export const OTLP_SOURCE = 'otlp';

// The ingest sink's own rules (libs/ingest record-validation), applied here too so that what the sink would
// dead-letter later as an opaque Avro record is refused now, while the sender still hears about it.
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 24 * 3600 * 1000;
const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;

const layouts = {
  traces: { resources: 'resourceSpans', scopes: 'scopeSpans', items: 'spans' },
  metrics: { resources: 'resourceMetrics', scopes: 'scopeMetrics', items: 'metrics' },
  logs: { resources: 'resourceLogs', scopes: 'scopeLogs', items: 'logRecords' },
} as const satisfies Record<OtlpSignal, { resources: string; scopes: string; items: string }>;

interface Located<I> {
  resource: ResourceEntry;
  scope: ScopeEntry;
  item: I;
  resourceAttributes: Record<string, string>;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${where}: expected an array`);
  return value;
}

function object<T extends object>(value: unknown, where: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OtlpDecodeError(`${where}: expected an object`);
  return value as T;
}

/** Every item of the request with its resource and scope; a malformed envelope refuses the request. */
function walk<I extends object>(signal: OtlpSignal, request: unknown): Located<I>[] {
  const layout = layouts[signal];
  const body = object<Record<string, unknown>>(request, 'request');
  const out: Located<I>[] = [];
  list(body[layout.resources], layout.resources).forEach((r, i) => {
    const resource = object<ResourceEntry>(r, `${layout.resources}[${i}]`);
    const resourceAttributes = flatten(resource.resource?.attributes, `${layout.resources}[${i}].resource`);
    list(resource[layout.scopes], `${layout.resources}[${i}].${layout.scopes}`).forEach((s, j) => {
      const where = `${layout.resources}[${i}].${layout.scopes}[${j}]`;
      const scope = object<ScopeEntry>(s, where);
      list(scope[layout.items], `${where}.${layout.items}`).forEach((item, k) => {
        out.push({
          resource,
          scope,
          item: object<I>(item, `${where}.${layout.items}[${k}]`),
          resourceAttributes,
        });
      });
    });
  });
  return out;
}

/** The request that carries only this item, under its own resource and scope. */
function alone(signal: OtlpSignal, at: Located<object>, item: object): object {
  const layout = layouts[signal];
  return {
    [layout.resources]: [{ ...at.resource, [layout.scopes]: [{ ...at.scope, [layout.items]: [item] }] }],
  };
}

function bytesToBase64(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return typeof value === 'string' ? value : '';
}

/** An AnyValue as a plain JSON value, for arrays and maps rendered into one string. */
function plain(value: AnyValue | undefined): unknown {
  if (!value || typeof value !== 'object') return null;
  if (value.stringValue !== undefined) return String(value.stringValue);
  if (value.boolValue !== undefined) return value.boolValue === true;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined)
    return list(value.arrayValue.values, 'arrayValue').map((v) => plain(v as AnyValue));
  if (value.kvlistValue !== undefined)
    return Object.fromEntries(
      list(value.kvlistValue.values, 'kvlistValue').map((kv) => [
        String((kv as KeyValue).key),
        plain((kv as KeyValue).value),
      ]),
    );
  if (value.bytesValue !== undefined) return bytesToBase64(value.bytesValue);
  return null;
}

/** An AnyValue rendered as one string: scalars as written, arrays and maps as JSON, bytes as base64. */
export function renderValue(value: AnyValue | undefined): string {
  if (!value || typeof value !== 'object') return '';
  if (value.stringValue !== undefined) return String(value.stringValue);
  if (value.boolValue !== undefined) return value.boolValue === true ? 'true' : 'false';
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  if (value.bytesValue !== undefined) return bytesToBase64(value.bytesValue);
  const rendered = plain(value);
  return rendered === null ? '' : JSON.stringify(rendered);
}

export function flatten(attributes: unknown, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list(attributes, `${where}.attributes`)) {
    const { key, value } = object<KeyValue>(kv, `${where}.attributes`);
    if (typeof key === 'string' && key.length > 0) out[key] = renderValue(value);
  }
  return out;
}

/** OTLP nanoseconds (decimal string, JSON number or absent) as a bigint; absent is 0. */
function nanos(value: unknown, field: string): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new ItemProblem(`${field} ${JSON.stringify(value)} is not a count of nanoseconds`);
}

function checkTime(ms: number, field: string, nowMs: number): void {
  if (ms < EARLIEST_MS) throw new ItemProblem(`${field} is before 2000-01-01 or missing`);
  if (ms > nowMs + MAX_FUTURE_MS) throw new ItemProblem(`${field} is more than a day in the future`);
}

/** A trace or span id as lowercase hex: bytes from protobuf, hex from OTLP/JSON; undefined when empty. */
function hexId(value: unknown, bytes: number, field: string): string | undefined {
  let hex: string;
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Uint8Array) {
    if (value.length === 0) return undefined;
    hex = Buffer.from(value).toString('hex');
  } else if (typeof value === 'string') hex = value.toLowerCase();
  else throw new ItemProblem(`${field} is not an id`);
  if (!new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(hex) || /^0+$/.test(hex))
    throw new ItemProblem(`${field} must be ${bytes} bytes, not all zero`);
  return hex;
}

/** Content-derived, UUID-shaped: a request re-sent after a lost response yields the same event ids. */
function stableEventId(...parts: unknown[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The first configured device attribute found on the item, then on its resource. */
function deviceOf(
  options: MappingOptions,
  ...scopes: Array<Record<string, string>>
): { id: string; attribute: string } | undefined {
  for (const attribute of options.deviceIdAttributes) {
    for (const attributes of scopes) {
      const id = attributes[attribute];
      if (id !== undefined && id.trim().length > 0) return { id, attribute };
    }
  }
  return undefined;
}

function without(attributes: Record<string, string>, key: string | undefined): Record<string, string> {
  if (key === undefined) return attributes;
  const { [key]: _dropped, ...rest } = attributes;
  return rest;
}

function withService(
  labels: Record<string, string>,
  resource: Record<string, string>,
): Record<string, string> {
  const service = resource['service.name'];
  return service === undefined ? labels : { ...labels, 'service.name': service };
}

function mapItems<I extends object, T>(
  signal: OtlpSignal,
  request: unknown,
  map: (at: Located<I>, index: number) => T[],
  keyOf: (item: I) => string | null = () => null,
): OtlpMapped<T> {
  const records: T[] = [];
  const rejected: OtlpRejection[] = [];
  const located = walk<I>(signal, request);
  located.forEach((at, index) => {
    try {
      records.push(...map(at, index));
    } catch (error) {
      if (!(error instanceof ItemProblem)) throw error;
      rejected.push({ reason: error.message, request: alone(signal, at, at.item), key: keyOf(at.item) });
    }
  });
  return { items: located.length, records, rejected };
}

const spanKinds = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const statusCodes = ['UNSET', 'OK', 'ERROR'] as const;

interface OtlpSpan {
  traceId?: unknown;
  spanId?: unknown;
  parentSpanId?: unknown;
  name?: unknown;
  kind?: unknown;
  startTimeUnixNano?: unknown;
  endTimeUnixNano?: unknown;
  attributes?: unknown;
  events?: unknown;
  status?: { code?: unknown; message?: unknown };
}

interface OtlpSpanEvent {
  timeUnixNano?: unknown;
  name?: unknown;
  attributes?: unknown;
}

export function mapTraces(request: unknown, options: MappingOptions): OtlpMapped<Span> {
  return mapItems<OtlpSpan, Span>(
    'traces',
    request,
    ({ item, scope, resourceAttributes }) => {
      const traceId = hexId(item.traceId, 16, 'traceId');
      const spanId = hexId(item.spanId, 8, 'spanId');
      if (!traceId || !spanId) throw new ItemProblem('traceId and spanId are required');
      const name = typeof item.name === 'string' ? item.name : '';
      if (name.trim().length === 0) throw new ItemProblem('name is empty');
      const start = nanos(item.startTimeUnixNano, 'startTimeUnixNano');
      const end = nanos(item.endTimeUnixNano, 'endTimeUnixNano');
      checkTime(Number(start / 1_000_000n), 'startTimeUnixNano', options.nowMs);
      if (end < start) throw new ItemProblem('endTimeUnixNano is before startTimeUnixNano');
      const spanAttributes = flatten(item.attributes, 'span');
      const scopeAttributes: Record<string, string> = {};
      if (typeof scope.scope?.name === 'string' && scope.scope.name !== '')
        scopeAttributes['otel.scope.name'] = scope.scope.name;
      if (typeof scope.scope?.version === 'string' && scope.scope.version !== '')
        scopeAttributes['otel.scope.version'] = scope.scope.version;
      const events = list(item.events, 'events')
        .map((e) => {
          const event = object<OtlpSpanEvent>(e, 'events');
          return {
            timeUs: Number(nanos(event.timeUnixNano, 'events.timeUnixNano') / 1000n),
            name: typeof event.name === 'string' ? event.name : '',
            attributes: flatten(event.attributes, 'event'),
          };
        })
        .sort((a, b) => a.timeUs - b.timeUs);
      const code = Number(item.status?.code ?? 0);
      return [
        {
          eventId: stableEventId('span', traceId, spanId),
          traceId,
          spanId,
          parentSpanId: hexId(item.parentSpanId, 8, 'parentSpanId') ?? null,
          name,
          serviceName: resourceAttributes['service.name'] ?? 'unknown_service',
          deviceId: deviceOf(options, spanAttributes, resourceAttributes)?.id ?? null,
          kind: spanKinds[Number(item.kind ?? 0)] ?? 'UNSPECIFIED',
          startTimeUs: Number(start / 1000n),
          // From truncated ends rather than the truncated difference, so start + duration is the end.
          durationUs: Number(end / 1000n) - Number(start / 1000n),
          statusCode: statusCodes[code] ?? 'UNSET',
          statusMessage:
            typeof item.status?.message === 'string' && item.status.message !== ''
              ? item.status.message
              : null,
          attributes: { ...resourceAttributes, ...scopeAttributes, ...spanAttributes },
          events,
          source: OTLP_SOURCE,
        },
      ];
    },
    (item) => {
      try {
        return hexId(item.traceId, 16, 'traceId') ?? null;
      } catch {
        return null;
      }
    },
  );
}

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

interface OtlpLogRecord {
  timeUnixNano?: unknown;
  observedTimeUnixNano?: unknown;
  severityNumber?: unknown;
  severityText?: unknown;
  body?: AnyValue;
  attributes?: unknown;
  traceId?: unknown;
  spanId?: unknown;
}

type Severity = DeviceLogRecord['severity'];
const severityRanges: Severity[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const severityWords: Record<string, Severity> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  information: 'INFO',
  notice: 'INFO',
  warn: 'WARN',
  warning: 'WARN',
  error: 'ERROR',
  err: 'ERROR',
  critical: 'FATAL',
  fatal: 'FATAL',
  emergency: 'FATAL',
  alert: 'FATAL',
};

/**
 * OTLP SeverityNumber 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL; unset, the
 * severity text if it names a level (syslog words too), else INFO.
 */
export function severityOf(severityNumber: unknown, severityText: unknown): Severity {
  const n = Number(severityNumber ?? 0);
  if (Number.isInteger(n) && n >= 1 && n <= 24) return severityRanges[Math.floor((n - 1) / 4)]!;
  if (typeof severityText === 'string') {
    const word =
      severityWords[
        severityText
          .trim()
          .toLowerCase()
          .replace(/[0-9]+$/, '')
      ];
    if (word) return word;
  }
  return 'INFO';
}

export function mapLogs(request: unknown, options: MappingOptions): OtlpMapped<DeviceLogRecord> {
  return mapItems<OtlpLogRecord, DeviceLogRecord>('logs', request, ({ item, resourceAttributes }, index) => {
    const attributes = flatten(item.attributes, 'logRecord');
    const device = deviceOf(options, attributes, resourceAttributes);
    if (!device)
      throw new ItemProblem(`no device id: none of ${options.deviceIdAttributes.join(', ')} is set`);
    const time = nanos(item.timeUnixNano, 'timeUnixNano');
    const observed = nanos(item.observedTimeUnixNano, 'observedTimeUnixNano');
    // The spec allows a record without an event time; then when the collector first saw it is the best.
    const timestampMs =
      time > 0n ? Number(time / 1_000_000n) : observed > 0n ? Number(observed / 1_000_000n) : options.nowMs;
    checkTime(timestampMs, 'timeUnixNano', options.nowMs);
    const body = renderValue(item.body);
    const traceId = hexId(item.traceId, 16, 'traceId') ?? null;
    const spanId = hexId(item.spanId, 8, 'spanId') ?? null;
    return [
      {
        eventId: stableEventId(
          'log',
          device.id,
          time.toString(),
          observed.toString(),
          body,
          traceId,
          spanId,
          index,
        ),
        deviceId: device.id,
        timestampMs,
        severity: severityOf(item.severityNumber, item.severityText),
        body,
        attributes: withService(without(attributes, device.attribute), resourceAttributes),
        traceId,
        spanId,
        source: OTLP_SOURCE,
      },
    ];
  });
}
