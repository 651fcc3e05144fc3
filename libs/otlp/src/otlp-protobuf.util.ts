import protobuf from 'protobufjs';
import type { OtlpSignal } from './otlp.type.js';

/**
 * The OTLP v1 messages the receiver reads and writes, as a protobufjs descriptor. Field numbers follow
 * opentelemetry-proto (common, resource, trace, metrics, logs and the collector services); no .proto files
 * ship with the installed packages, and @opentelemetry/otlp-transformer only writes requests. Enums are
 * declared as int32 (the same varint on the wire) so that values newer than this table still decode.
 */
type Fields = Record<string, [type: string, id: number, repeated?: 'repeated']>;

function message(fields: Fields, oneofs: Record<string, string[]> = {}): protobuf.IType {
  return {
    fields: Object.fromEntries(
      Object.entries(fields).map(([name, [type, id, rule]]) => [
        name,
        rule ? { type, id, rule } : { type, id },
      ]),
    ),
    ...(Object.keys(oneofs).length > 0
      ? { oneofs: Object.fromEntries(Object.entries(oneofs).map(([n, list]) => [n, { oneof: list }])) }
      : {}),
  };
}

const dataPointTimes: Fields = {
  startTimeUnixNano: ['fixed64', 2],
  timeUnixNano: ['fixed64', 3],
};

const root = protobuf.Root.fromJSON({
  nested: {
    AnyValue: message(
      {
        stringValue: ['string', 1],
        boolValue: ['bool', 2],
        intValue: ['int64', 3],
        doubleValue: ['double', 4],
        arrayValue: ['ArrayValue', 5],
        kvlistValue: ['KeyValueList', 6],
        bytesValue: ['bytes', 7],
      },
      {
        value: [
          'stringValue',
          'boolValue',
          'intValue',
          'doubleValue',
          'arrayValue',
          'kvlistValue',
          'bytesValue',
        ],
      },
    ),
    ArrayValue: message({ values: ['AnyValue', 1, 'repeated'] }),
    KeyValueList: message({ values: ['KeyValue', 1, 'repeated'] }),
    KeyValue: message({ key: ['string', 1], value: ['AnyValue', 2] }),
    InstrumentationScope: message({
      name: ['string', 1],
      version: ['string', 2],
      attributes: ['KeyValue', 3, 'repeated'],
      droppedAttributesCount: ['uint32', 4],
    }),
    Resource: message({ attributes: ['KeyValue', 1, 'repeated'], droppedAttributesCount: ['uint32', 2] }),

    ExportTraceServiceRequest: message({ resourceSpans: ['ResourceSpans', 1, 'repeated'] }),
    ResourceSpans: message({
      resource: ['Resource', 1],
      scopeSpans: ['ScopeSpans', 2, 'repeated'],
      schemaUrl: ['string', 3],
    }),
    ScopeSpans: message({
      scope: ['InstrumentationScope', 1],
      spans: ['Span', 2, 'repeated'],
      schemaUrl: ['string', 3],
    }),
    Span: message({
      traceId: ['bytes', 1],
      spanId: ['bytes', 2],
      traceState: ['string', 3],
      parentSpanId: ['bytes', 4],
      name: ['string', 5],
      kind: ['int32', 6],
      startTimeUnixNano: ['fixed64', 7],
      endTimeUnixNano: ['fixed64', 8],
      attributes: ['KeyValue', 9, 'repeated'],
      droppedAttributesCount: ['uint32', 10],
      events: ['SpanEvent', 11, 'repeated'],
      droppedEventsCount: ['uint32', 12],
      links: ['SpanLink', 13, 'repeated'],
      droppedLinksCount: ['uint32', 14],
      status: ['SpanStatus', 15],
      flags: ['fixed32', 16],
    }),
    SpanEvent: message({
      timeUnixNano: ['fixed64', 1],
      name: ['string', 2],
      attributes: ['KeyValue', 3, 'repeated'],
      droppedAttributesCount: ['uint32', 4],
    }),
    SpanLink: message({
      traceId: ['bytes', 1],
      spanId: ['bytes', 2],
      traceState: ['string', 3],
      attributes: ['KeyValue', 4, 'repeated'],
      droppedAttributesCount: ['uint32', 5],
      flags: ['fixed32', 6],
    }),
    SpanStatus: message({ message: ['string', 2], code: ['int32', 3] }),
    ExportTraceServiceResponse: message({ partialSuccess: ['ExportTracePartialSuccess', 1] }),
    ExportTracePartialSuccess: message({ rejectedSpans: ['int64', 1], errorMessage: ['string', 2] }),

    ExportMetricsServiceRequest: message({ resourceMetrics: ['ResourceMetrics', 1, 'repeated'] }),
    ResourceMetrics: message({
      resource: ['Resource', 1],
      scopeMetrics: ['ScopeMetrics', 2, 'repeated'],
      schemaUrl: ['string', 3],
    }),
    ScopeMetrics: message({
      scope: ['InstrumentationScope', 1],
      metrics: ['Metric', 2, 'repeated'],
      schemaUrl: ['string', 3],
    }),
    Metric: message(
      {
        name: ['string', 1],
        description: ['string', 2],
        unit: ['string', 3],
        gauge: ['Gauge', 5],
        sum: ['Sum', 7],
        histogram: ['Histogram', 9],
        exponentialHistogram: ['ExponentialHistogram', 10],
        summary: ['Summary', 11],
        metadata: ['KeyValue', 12, 'repeated'],
      },
      { data: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] },
    ),
    Gauge: message({ dataPoints: ['NumberDataPoint', 1, 'repeated'] }),
    Sum: message({
      dataPoints: ['NumberDataPoint', 1, 'repeated'],
      aggregationTemporality: ['int32', 2],
      isMonotonic: ['bool', 3],
    }),
    Histogram: message({
      dataPoints: ['HistogramDataPoint', 1, 'repeated'],
      aggregationTemporality: ['int32', 2],
    }),
    ExponentialHistogram: message({
      dataPoints: ['ExponentialHistogramDataPoint', 1, 'repeated'],
      aggregationTemporality: ['int32', 2],
    }),
    Summary: message({ dataPoints: ['SummaryDataPoint', 1, 'repeated'] }),
    NumberDataPoint: message(
      {
        attributes: ['KeyValue', 7, 'repeated'],
        ...dataPointTimes,
        asDouble: ['double', 4],
        asInt: ['sfixed64', 6],
        exemplars: ['Exemplar', 5, 'repeated'],
        flags: ['uint32', 8],
      },
      { value: ['asDouble', 'asInt'] },
    ),
    HistogramDataPoint: message({
      attributes: ['KeyValue', 9, 'repeated'],
      ...dataPointTimes,
      count: ['fixed64', 4],
      sum: ['double', 5],
      bucketCounts: ['fixed64', 6, 'repeated'],
      explicitBounds: ['double', 7, 'repeated'],
      exemplars: ['Exemplar', 8, 'repeated'],
      flags: ['uint32', 10],
      min: ['double', 11],
      max: ['double', 12],
    }),
    ExponentialHistogramDataPoint: message({
      attributes: ['KeyValue', 1, 'repeated'],
      ...dataPointTimes,
      count: ['fixed64', 4],
      sum: ['double', 5],
      scale: ['sint32', 6],
      zeroCount: ['fixed64', 7],
      positive: ['Buckets', 8],
      negative: ['Buckets', 9],
      flags: ['uint32', 10],
      exemplars: ['Exemplar', 11, 'repeated'],
      min: ['double', 12],
      max: ['double', 13],
      zeroThreshold: ['double', 14],
    }),
    Buckets: message({ offset: ['sint32', 1], bucketCounts: ['uint64', 2, 'repeated'] }),
    SummaryDataPoint: message({
      attributes: ['KeyValue', 7, 'repeated'],
      ...dataPointTimes,
      count: ['fixed64', 4],
      sum: ['double', 5],
      quantileValues: ['ValueAtQuantile', 6, 'repeated'],
      flags: ['uint32', 8],
    }),
    ValueAtQuantile: message({ quantile: ['double', 1], value: ['double', 2] }),
    Exemplar: message(
      {
        filteredAttributes: ['KeyValue', 7, 'repeated'],
        timeUnixNano: ['fixed64', 2],
        asDouble: ['double', 3],
        asInt: ['sfixed64', 6],
        spanId: ['bytes', 4],
        traceId: ['bytes', 5],
      },
      { value: ['asDouble', 'asInt'] },
    ),
    ExportMetricsServiceResponse: message({ partialSuccess: ['ExportMetricsPartialSuccess', 1] }),
    ExportMetricsPartialSuccess: message({ rejectedDataPoints: ['int64', 1], errorMessage: ['string', 2] }),

    ExportLogsServiceRequest: message({ resourceLogs: ['ResourceLogs', 1, 'repeated'] }),
    ResourceLogs: message({
      resource: ['Resource', 1],
      scopeLogs: ['ScopeLogs', 2, 'repeated'],
      schemaUrl: ['string', 3],
    }),
    ScopeLogs: message({
      scope: ['InstrumentationScope', 1],
      logRecords: ['LogRecord', 2, 'repeated'],
      schemaUrl: ['string', 3],
    }),
    LogRecord: message({
      timeUnixNano: ['fixed64', 1],
      observedTimeUnixNano: ['fixed64', 11],
      severityNumber: ['int32', 2],
      severityText: ['string', 3],
      body: ['AnyValue', 5],
      attributes: ['KeyValue', 6, 'repeated'],
      droppedAttributesCount: ['uint32', 7],
      flags: ['fixed32', 8],
      traceId: ['bytes', 9],
      spanId: ['bytes', 10],
      eventName: ['string', 12],
    }),
    ExportLogsServiceResponse: message({ partialSuccess: ['ExportLogsPartialSuccess', 1] }),
    ExportLogsPartialSuccess: message({ rejectedLogRecords: ['int64', 1], errorMessage: ['string', 2] }),

    /** google.rpc.Status, the body of every OTLP error response; details are never sent. */
    Status: message({ code: ['int32', 1], message: ['string', 2] }),
  },
});

const requestTypes: Record<OtlpSignal, protobuf.Type> = {
  traces: root.lookupType('ExportTraceServiceRequest'),
  metrics: root.lookupType('ExportMetricsServiceRequest'),
  logs: root.lookupType('ExportLogsServiceRequest'),
};
const responseTypes: Record<OtlpSignal, protobuf.Type> = {
  traces: root.lookupType('ExportTraceServiceResponse'),
  metrics: root.lookupType('ExportMetricsServiceResponse'),
  logs: root.lookupType('ExportLogsServiceResponse'),
};
const statusType = root.lookupType('Status');

/**
 * Decodes an export request into the shape of OTLP/JSON (lowerCamelCase fields, 64-bit numbers as decimal
 * strings, enums as numbers), so one mapper reads both encodings; ids stay bytes. Throws on bad input.
 */
export function decodeProtobufRequest(signal: OtlpSignal, body: Uint8Array): unknown {
  const type = requestTypes[signal];
  return type.toObject(type.decode(body), { longs: String, enums: Number });
}

/** Encodes a request in the decoded shape back to protobuf: a rejected item's dead letter, replayable as is. */
export function encodeProtobufRequest(signal: OtlpSignal, request: object): Buffer {
  const type = requestTypes[signal];
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}

export function encodeProtobufResponse(signal: OtlpSignal, response: object): Buffer {
  const type = responseTypes[signal];
  return Buffer.from(type.encode(type.fromObject(response)).finish());
}

export function encodeProtobufStatus(status: { code: number; message: string }): Buffer {
  return Buffer.from(statusType.encode(statusType.fromObject(status)).finish());
}
