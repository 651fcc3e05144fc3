import { describe, expect, it } from 'vitest';
import { OtlpDecodeError, renderValue } from './otlp-mapping.util.js';
import { mapLogs, severityOf } from './otlp-logs-mapping.util.js';
import { mapMetrics } from './otlp-metrics-mapping.util.js';
import { mapTraces } from './otlp-traces-mapping.util.js';
import { decodeProtobufRequest, encodeProtobufRequest } from './otlp-protobuf.util.js';

const options = { deviceIdAttributes: ['device.id', 'host.name'], nowMs: Date.UTC(2026, 0, 1) };
const ns = (ms: number) => `${ms}000000`;
const kv = (key: string, value: object) => ({ key, value });
const resource = (...attributes: object[]) => ({ resource: { attributes } });

describe('OTLP mapping', () => {
  it('renders attribute values as strings', () => {
    expect(renderValue({ intValue: '9007199254740993' })).toBe('9007199254740993');
    expect(renderValue({ boolValue: false })).toBe('false');
    expect(renderValue({ bytesValue: new Uint8Array([1, 2]) })).toBe('AQI=');
    expect(
      renderValue({
        kvlistValue: {
          values: [kv('a', { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'x' }] } })],
        },
      }),
    ).toBe('{"a":[1,"x"]}');
    expect(renderValue(undefined)).toBe('');
  });

  it('maps severity numbers by range and falls back to the text', () => {
    expect(severityOf(4, 'whatever')).toBe('TRACE');
    expect(severityOf(9, undefined)).toBe('INFO');
    expect(severityOf(16, undefined)).toBe('WARN');
    expect(severityOf(24, undefined)).toBe('FATAL');
    expect(severityOf(0, 'Warning')).toBe('WARN');
    expect(severityOf(undefined, 'ERROR2')).toBe('ERROR');
    expect(severityOf(0, 'loud')).toBe('INFO');
  });

  it('refuses a malformed envelope as a whole', () => {
    expect(() => mapTraces([], options)).toThrow(OtlpDecodeError);
    expect(() => mapLogs({ resourceLogs: [{ scopeLogs: 'x' }] }, options)).toThrow(/expected an array/);
  });

  it('rejects one span with a bad id and keeps the others, each rejection a one-span request', () => {
    const span = (traceId: string) => ({
      traceId,
      spanId: '00f067aa0ba902b7',
      name: 'op',
      startTimeUnixNano: ns(options.nowMs - 1000),
      endTimeUnixNano: ns(options.nowMs),
    });
    const request = {
      resourceSpans: [
        {
          ...resource(kv('service.name', { stringValue: 'svc' })),
          scopeSpans: [
            { scope: { name: 's' }, spans: [span('4bf92f3577b34da6a3ce929d0e0e4736'), span('00')] },
          ],
        },
      ],
    };
    const { records, rejected, items } = mapTraces(request, options);
    expect(items).toBe(2);
    expect(records.map((r) => [r.serviceName, r.deviceId, r.durationUs])).toEqual([['svc', null, 1_000_000]]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBe('traceId must be 16 bytes, not all zero');
    expect(rejected[0]!.request).toEqual({
      ...request,
      resourceSpans: [
        { ...request.resourceSpans[0], scopeSpans: [{ scope: { name: 's' }, spans: [span('00')] }] },
      ],
    });
  });

  it('maps a point without a recorded value to a BAD sample and a summary to count and sum', () => {
    const time = ns(options.nowMs - 5000);
    const { records, rejected } = mapMetrics(
      {
        resourceMetrics: [
          {
            ...resource(kv('host.name', { stringValue: 'gw-1' })),
            scopeMetrics: [
              {
                metrics: [
                  { name: 'temp', unit: 'Cel', gauge: { dataPoints: [{ timeUnixNano: time, flags: 1 }] } },
                  {
                    name: 'lat',
                    unit: 'ms',
                    summary: { dataPoints: [{ timeUnixNano: time, count: '4', sum: 10 }] },
                  },
                  { name: 'bad name!', gauge: { dataPoints: [{ timeUnixNano: time, asInt: '1' }] } },
                ],
              },
            ],
          },
        ],
      },
      options,
    );
    expect(records.map((r) => [r.deviceId, r.metric, r.value, r.unit, r.quality])).toEqual([
      ['gw-1', 'temp', null, 'Cel', 'BAD'],
      ['gw-1', 'lat.count', 4, null, 'GOOD'],
      ['gw-1', 'lat.sum', 10, 'ms', 'GOOD'],
    ]);
    expect(rejected.map((r) => r.reason)).toEqual(['metric "bad name!" is not a metric name']);
  });

  it('refuses timestamps from before 2000 or more than a day ahead', () => {
    const log = (timeUnixNano: string) => ({
      resourceLogs: [
        {
          ...resource(kv('device.id', { stringValue: 'd' })),
          scopeLogs: [{ logRecords: [{ timeUnixNano, body: { stringValue: 'x' } }] }],
        },
      ],
    });
    expect(mapLogs(log(ns(options.nowMs)), options).records).toHaveLength(1);
    expect(mapLogs(log('1700000000000'), options).rejected[0]!.reason).toMatch(/before 2000/);
    expect(mapLogs(log(ns(options.nowMs + 2 * 86_400_000)), options).rejected[0]!.reason).toMatch(/future/);
  });

  it('round-trips a decoded protobuf request, so a dead letter is a valid export request', () => {
    const request = {
      resourceLogs: [
        {
          ...resource(kv('device.id', { stringValue: 'd' })),
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: ns(options.nowMs), severityNumber: 13, traceId: new Uint8Array(16).fill(7) },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeProtobufRequest('logs', encodeProtobufRequest('logs', request));
    const [record] = mapLogs(decoded, options).records;
    expect(record).toMatchObject({
      deviceId: 'd',
      severity: 'WARN',
      traceId: '07'.repeat(16),
      timestampMs: options.nowMs,
    });
  });
});
