export type OtlpSignal = 'traces' | 'metrics' | 'logs';

/**
 * An OTLP AnyValue in OTLP/JSON form, or as decoded from protobuf (int64 as decimal strings, bytes as
 * Uint8Array). Fields are `unknown` where a JSON sender may put anything: the mapper checks them.
 */
export interface AnyValue {
  stringValue?: unknown;
  boolValue?: unknown;
  intValue?: unknown;
  doubleValue?: unknown;
  arrayValue?: { values?: unknown };
  kvlistValue?: { values?: unknown };
  bytesValue?: unknown;
}

export interface KeyValue {
  key?: unknown;
  value?: AnyValue;
}

/** A decoded export request's resource-level entry, e.g. one ResourceSpans. */
export interface ResourceEntry {
  resource?: { attributes?: unknown };
  [field: string]: unknown;
}

/** A decoded export request's scope-level entry, e.g. one ScopeSpans. */
export interface ScopeEntry {
  scope?: { name?: unknown; version?: unknown };
  [field: string]: unknown;
}

/** An item the receiver refused: why, and a one-item export request holding it, replayable as is. */
export interface OtlpRejection {
  reason: string;
  request: object;
  key: string | null;
}

export interface OtlpMapped<T> {
  /** Spans, data points or log records in the request. */
  items: number;
  records: T[];
  rejected: OtlpRejection[];
}
