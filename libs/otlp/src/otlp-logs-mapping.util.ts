import type { DeviceLogRecord } from '@sentio/events';
import {
  ItemProblem,
  type MappingOptions,
  OTLP_SOURCE,
  checkTime,
  deviceOf,
  flatten,
  hexId,
  mapItems,
  nanos,
  renderValue,
  stableEventId,
  withService,
  without,
} from './otlp-mapping.util.js';
import type { AnyValue, OtlpMapped } from './otlp.type.js';

// OTLP log records onto device log records.
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
