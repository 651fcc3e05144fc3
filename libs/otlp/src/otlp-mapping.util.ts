import { createHash } from 'node:crypto';
import type {
  AnyValue,
  KeyValue,
  OtlpMapped,
  OtlpRejection,
  OtlpSignal,
  ResourceEntry,
  ScopeEntry,
} from './otlp.type.js';

// What every signal's mapping shares: walking a request's resources and scopes, attribute values, ids,
// times, the device id, and refusing one item alone. Each signal maps in its own file:
// otlp-traces-mapping.util.ts, otlp-metrics-mapping.util.ts, otlp-logs-mapping.util.ts.

/** The request is not an OTLP export request at all: the whole of it is refused with 400. */
export class OtlpDecodeError extends Error {}

/** One item cannot become an event: it alone is refused (partial success) and dead-lettered. */
export class ItemProblem extends Error {}

export interface MappingOptions {
  deviceIdAttributes: readonly string[];
  nowMs: number;
}

export const OTLP_SOURCE = 'otlp';

// The ingest sink's own rules (libs/ingest record-validation), applied here too so that what the sink would
// dead-letter later as an opaque Avro record is refused now, while the sender still hears about it.
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 24 * 3600 * 1000;
export const METRIC_NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;

const layouts = {
  traces: { resources: 'resourceSpans', scopes: 'scopeSpans', items: 'spans' },
  metrics: { resources: 'resourceMetrics', scopes: 'scopeMetrics', items: 'metrics' },
  logs: { resources: 'resourceLogs', scopes: 'scopeLogs', items: 'logRecords' },
} as const satisfies Record<OtlpSignal, { resources: string; scopes: string; items: string }>;

export interface Located<I> {
  resource: ResourceEntry;
  scope: ScopeEntry;
  item: I;
  resourceAttributes: Record<string, string>;
}

export function list(value: unknown, where: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${where}: expected an array`);
  return value;
}

export function object<T extends object>(value: unknown, where: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OtlpDecodeError(`${where}: expected an object`);
  return value as T;
}

/** Every item of the request with its resource and scope; a malformed envelope refuses the request. */
export function walk<I extends object>(signal: OtlpSignal, request: unknown): Located<I>[] {
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
export function alone(signal: OtlpSignal, at: Located<object>, item: object): object {
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
export function nanos(value: unknown, field: string): bigint {
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new ItemProblem(`${field} ${JSON.stringify(value)} is not a count of nanoseconds`);
}

export function checkTime(ms: number, field: string, nowMs: number): void {
  if (ms < EARLIEST_MS) throw new ItemProblem(`${field} is before 2000-01-01 or missing`);
  if (ms > nowMs + MAX_FUTURE_MS) throw new ItemProblem(`${field} is more than a day in the future`);
}

/** A trace or span id as lowercase hex: bytes from protobuf, hex from OTLP/JSON; undefined when empty. */
export function hexId(value: unknown, bytes: number, field: string): string | undefined {
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
export function stableEventId(...parts: unknown[]): string {
  const hex = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The first configured device attribute found on the item, then on its resource. */
export function deviceOf(
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

export function without(attributes: Record<string, string>, key: string | undefined): Record<string, string> {
  if (key === undefined) return attributes;
  const { [key]: _dropped, ...rest } = attributes;
  return rest;
}

export function withService(
  labels: Record<string, string>,
  resource: Record<string, string>,
): Record<string, string> {
  const service = resource['service.name'];
  return service === undefined ? labels : { ...labels, 'service.name': service };
}

export function mapItems<I extends object, T>(
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
