import type { Span } from '@sentio/events';
import {
  ItemProblem,
  type MappingOptions,
  OTLP_SOURCE,
  checkTime,
  deviceOf,
  flatten,
  hexId,
  list,
  mapItems,
  nanos,
  object,
  stableEventId,
} from './otlp-mapping.util.js';
import type { OtlpMapped } from './otlp.type.js';

// OTLP spans onto Span events.
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
