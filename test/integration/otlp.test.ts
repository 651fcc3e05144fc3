import { gzipSync } from 'node:zlib';
import type { INestApplicationContext } from '@nestjs/common';
import {
  ROOT_CONTEXT,
  SeverityNumber,
  SpanKind,
  SpanStatusCode,
  trace,
  type HrTime,
} from '@opentelemetry/api';
import { OTLPLogExporter as LogsHttpExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsHttpExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TraceHttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { AvroSerde, EventCodec } from '@sentio/avro';
import {
  eventStreams,
  type DeviceLogRecord,
  type EventStream,
  type Span,
  type TelemetrySample,
} from '@sentio/events';
import { deadLetterHeaders } from '@sentio/kafka';
import { HealthRegistry } from '@sentio/observability';
import { otlpDeadLetterHeaders } from '@sentio/otlp';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './support/backbone.js';
import { startOtlp } from './support/otlp-harness.js';

interface Collected {
  spans: Span[];
  telemetry: TelemetrySample[];
  logs: DeviceLogRecord[];
  dlq: KafkaMessage[];
  consumer: Consumer;
}

const MAX_BODY = 256 * 1024;

/** Reads the sandbox's span, telemetry, log and dead-letter topics from the beginning, decoded. */
async function collect(box: Sandbox): Promise<Collected> {
  const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
  const codec = async <T>(stream: EventStream<T>, topic: string) =>
    (await EventCodec.register<T>(serde, stream, topic)) as EventCodec<unknown>;
  const consumer = box.kafka.consumer({ groupId: `reader-${box.namespace}` });
  const got: Collected = { spans: [], telemetry: [], logs: [], dlq: [], consumer };
  const routes = new Map<string, { codec: EventCodec<unknown>; into: unknown[] }>([
    [box.topics.spans, { codec: await codec(eventStreams.spans, box.topics.spans), into: got.spans }],
    [
      box.topics.telemetry,
      { codec: await codec(eventStreams.telemetry, box.topics.telemetry), into: got.telemetry },
    ],
    [box.topics.logs, { codec: await codec(eventStreams.logs, box.topics.logs), into: got.logs }],
  ]);
  await consumer.connect();
  await consumer.subscribe({ topics: [...routes.keys(), box.topics.deadLetter], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (topic === box.topics.deadLetter) {
        got.dlq.push(message);
        return;
      }
      const route = routes.get(topic)!;
      await route.codec.prepare([message.value]);
      const decoded = route.codec.decode(message.value);
      if (!decoded.ok) throw new Error(`undecodable record on ${topic}: ${decoded.reason}`);
      route.into.push(decoded.value);
    },
  });
  return got;
}

/** Waits until the condition holds; the bound only keeps a broken run from hanging. */
async function until(what: string, condition: () => boolean, state: () => unknown): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`${what} never happened; have ${JSON.stringify(state(), null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Records on the sandbox's topics so far: the receiver answers only after Kafka acknowledged, so exact. */
async function recordsOnTopics(box: Sandbox): Promise<number> {
  const admin = box.kafka.admin();
  await admin.connect();
  try {
    let total = 0;
    for (const topic of [box.topics.spans, box.topics.telemetry, box.topics.logs, box.topics.deadLetter]) {
      for (const p of await admin.fetchTopicOffsets(topic)) total += Number(p.high);
    }
    return total;
  } finally {
    await admin.disconnect();
  }
}

/** ExportResultCode.SUCCESS of @opentelemetry/core, which the exporters report through. */
const EXPORT_SUCCESS = 0;

function exported(send: (done: (result: { code: number; error?: Error }) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    send((result) => {
      if (result.code === EXPORT_SUCCESS) resolve();
      else reject(result.error ?? new Error(`export failed with code ${result.code}`));
    });
  });
}

const BASE_SECONDS = Math.floor(Date.now() / 1000) - 600;
const at = (offsetSeconds: number, nanos: number): HrTime => [BASE_SECONDS + offsetSeconds, nanos];
const microsOf = ([s, ns]: HrTime) => s * 1_000_000 + Math.floor(ns / 1000);
const millisOf = ([s, ns]: HrTime) => s * 1000 + Math.floor(ns / 1_000_000);

/** Resource attributes as the receiver renders them: strings, exactly as OTLP sent them. */
function stringAttributes(resource: Resource): Record<string, string> {
  return Object.fromEntries(Object.entries(resource.attributes).map(([k, v]) => [k, String(v)]));
}

class ManualReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

describe('OTLP/HTTP receiver', () => {
  let box: Sandbox;
  let app: INestApplicationContext;
  let base: string;
  let got: Collected;

  beforeAll(async () => {
    box = await sandbox('otlp');
    ({ app, base } = await startOtlp(box, {
      maxBodyBytes: MAX_BODY,
      deviceIdAttributes: ['device.id', 'host.name'],
    }));
    got = await collect(box);
  });

  afterAll(async () => {
    await got?.consumer.disconnect();
    await app?.close();
  });

  it('refuses bad requests as a whole with the OTLP status, and produces nothing for them', async () => {
    const post = (path: string, contentType: string, body: Buffer | string, headers = {}) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });

    const garbage = await post('/v1/traces', 'application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff, 0x01]));
    expect(garbage.status).toBe(400);
    expect(garbage.headers.get('content-type')).toBe('application/x-protobuf');
    // google.rpc.Status: field 1 (code) = 3 INVALID_ARGUMENT, then field 2 (message).
    expect([...new Uint8Array(await garbage.arrayBuffer()).subarray(0, 3)]).toEqual([0x08, 0x03, 0x12]);

    const badJson = await post('/v1/logs', 'application/json', '{"resourceLogs": [');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 3, message: expect.stringContaining('logs') });

    const wrongShape = await post('/v1/metrics', 'application/json', '{"resourceMetrics": {"a": 1}}');
    expect(wrongShape.status).toBe(400);

    const badGzip = await post('/v1/logs', 'application/json', 'not gzip', { 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);

    const text = await post('/v1/traces', 'text/plain', 'hello');
    expect(text.status).toBe(415);

    const tooBig = await post('/v1/logs', 'application/json', Buffer.alloc(MAX_BODY + 1, 0x20));
    expect(tooBig.status).toBe(413);

    // Streamed without a length: refused once the count passes the limit, the answer still delivered.
    const chunks = [new Uint8Array(MAX_BODY).fill(0x20), new Uint8Array(16).fill(0x20)];
    const streamed = await fetch(`${base}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(streamed.status).toBe(413);

    const bomb = gzipSync(Buffer.alloc(MAX_BODY * 4, 0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY);
    const inflated = await post('/v1/logs', 'application/json', bomb, { 'content-encoding': 'gzip' });
    expect(inflated.status).toBe(413);

    expect((await fetch(`${base}/v1/other`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/v1/traces`)).status).toBe(405);

    expect(await recordsOnTopics(box)).toBe(0);
  });

  it('maps spans sent by the SDK exporters (protobuf and JSON) onto Span events', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'pump-controller', 'device.id': 'pump-07' });
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
    const tracer = provider.getTracer('sentio-test', '1.2.3');
    const exporters = {
      proto: new TraceProtoExporter({ url: `${base}/v1/traces` }),
      json: new TraceHttpExporter({ url: `${base}/v1/traces` }),
    };
    const sent: ReadableSpan[] = [];
    for (const [encoding, exporter] of Object.entries(exporters)) {
      memory.reset();
      const root = tracer.startSpan(`poll-${encoding}`, {
        kind: SpanKind.SERVER,
        startTime: at(0, 123_456_789),
        attributes: { 'modbus.unit': 3, retry: true, ratio: 0.5, registers: ['hr0', 'hr1'] },
      });
      const child = tracer.startSpan(
        `decode-${encoding}`,
        { startTime: at(0, 200_000_000) },
        trace.setSpan(ROOT_CONTEXT, root),
      );
      child.addEvent('crc-checked', { bytes: 12 }, at(0, 250_000_000));
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'crc mismatch' });
      child.end(at(0, 300_000_000));
      root.end(at(1, 500_000_000));
      const spans = memory.getFinishedSpans();
      await exported((done) => exporter.export(spans, done));
      sent.push(...spans);
    }
    await provider.shutdown();

    await until(
      '4 spans',
      () => got.spans.length >= 4,
      () => got.spans,
    );
    const expected = sent.map((s) => {
      const traceId = s.spanContext().traceId;
      const spanId = s.spanContext().spanId;
      return {
        traceId,
        spanId,
        parentSpanId: s.parentSpanContext?.spanId ?? null,
        name: s.name,
        serviceName: 'pump-controller',
        deviceId: 'pump-07',
        kind: s.name.startsWith('poll') ? 'SERVER' : 'INTERNAL',
        startTimeUs: microsOf(s.startTime),
        durationUs: microsOf(s.endTime) - microsOf(s.startTime),
        statusCode: s.name.startsWith('poll') ? 'UNSET' : 'ERROR',
        statusMessage: s.name.startsWith('poll') ? null : 'crc mismatch',
        attributes: {
          ...stringAttributes(s.resource),
          'otel.scope.name': 'sentio-test',
          'otel.scope.version': '1.2.3',
          ...(s.name.startsWith('poll')
            ? { 'modbus.unit': '3', retry: 'true', ratio: '0.5', registers: '["hr0","hr1"]' }
            : {}),
        },
        events: s.name.startsWith('poll')
          ? []
          : [{ timeUs: microsOf(at(0, 250_000_000)), name: 'crc-checked', attributes: { bytes: '12' } }],
        source: 'otlp',
      };
    });
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(structuredClone(got.spans.map(({ eventId: _, ...rest }) => rest)).sort(byName)).toEqual(
      expected.sort(byName),
    );
    expect(new Set(got.spans.map((s) => s.eventId)).size).toBe(4);
    expect(got.spans.find((s) => s.name === 'poll-proto')!.durationUs).toBe(1_376_544);
  });

  it('maps gauges, sums and histograms sent by the SDK exporters onto telemetry samples', async () => {
    const sent: ResourceMetrics[] = [];
    const exporters = {
      proto: new MetricsProtoExporter({ url: `${base}/v1/metrics` }),
      json: new MetricsHttpExporter({ url: `${base}/v1/metrics` }),
    };
    for (const [encoding, exporter] of Object.entries(exporters)) {
      const reader = new ManualReader();
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': 'plant-gateway', 'host.name': `gw-${encoding}` }),
        readers: [reader],
      });
      const meter = provider.getMeter('sentio-test');
      meter.createGauge('pump.pressure', { unit: 'bar' }).record(4.5, { 'device.id': 'pump-01', line: 'l1' });
      meter.createCounter('pump.starts').add(3, { line: 'l1' });
      const cycle = meter.createHistogram('pump.cycle', { unit: 's' });
      cycle.record(2, { line: 'l1' });
      cycle.record(4, { line: 'l1' });
      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      await exported((done) => exporter.export(resourceMetrics, done));
      sent.push(resourceMetrics);
      await provider.shutdown();
    }

    await until(
      '8 samples',
      () => got.telemetry.length >= 8,
      () => got.telemetry,
    );
    const expected: Array<Omit<TelemetrySample, 'eventId'>> = [];
    for (const [i, encoding] of ['proto', 'json'].entries()) {
      const metrics = sent[i]!.scopeMetrics[0]!.metrics;
      const ms = (name: string) =>
        millisOf(metrics.find((m) => m.descriptor.name === name)!.dataPoints[0]!.endTime);
      const sample = (deviceId: string, metric: string, value: number, unit: string | null) => ({
        deviceId,
        timestampMs: ms(metric.replace(/\.(count|sum)$/, '')),
        metric,
        value,
        unit,
        quality: 'GOOD' as const,
        labels: { line: 'l1', 'service.name': 'plant-gateway' },
        source: 'otlp',
      });
      expected.push(
        sample('pump-01', 'pump.pressure', 4.5, 'bar'),
        sample(`gw-${encoding}`, 'pump.starts', 3, null),
        sample(`gw-${encoding}`, 'pump.cycle.count', 2, null),
        sample(`gw-${encoding}`, 'pump.cycle.sum', 6, 's'),
      );
    }
    const order = (a: Omit<TelemetrySample, 'eventId'>, b: Omit<TelemetrySample, 'eventId'>) =>
      `${a.deviceId}/${a.metric}/${a.timestampMs}`.localeCompare(
        `${b.deviceId}/${b.metric}/${b.timestampMs}`,
      );
    expect(got.telemetry.map(({ eventId: _, ...rest }) => rest).sort(order)).toEqual(expected.sort(order));
  });

  it('maps log records with severities, and answers a partial success for records with no device', async () => {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'pump-firmware' }),
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    const logger = provider.getLogger('sentio-test');
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    };
    logger.emit({
      timestamp: at(2, 1_500_000),
      severityNumber: SeverityNumber.WARN2,
      severityText: 'WARN',
      body: 'pressure high',
      attributes: { 'device.id': 'pump-09', bar: 7.5 },
      context: trace.setSpanContext(ROOT_CONTEXT, spanContext),
    });
    logger.emit({
      timestamp: at(3, 0),
      severityText: 'error',
      body: { code: 17, text: 'stall' },
      attributes: { 'device.id': 'pump-10' },
    });
    const records: ReadableLogRecord[] = [...memory.getFinishedLogRecords()];
    await exported((done) => new LogsProtoExporter({ url: `${base}/v1/logs` }).export(records, done));
    memory.reset();
    logger.emit({
      timestamp: at(4, 0),
      severityNumber: SeverityNumber.FATAL,
      body: 'json-sent',
      attributes: { 'device.id': 'pump-11' },
    });
    await exported((done) =>
      new LogsHttpExporter({ url: `${base}/v1/logs` }).export([...memory.getFinishedLogRecords()], done),
    );

    // Partial success: one record names a device, one does not; the SDK's own serializer builds the body.
    memory.reset();
    logger.emit({ timestamp: at(5, 0), body: 'kept', attributes: { 'device.id': 'pump-12' } });
    logger.emit({ timestamp: at(5, 0), body: 'orphan' });
    const mixed = ProtobufLogsSerializer.serializeRequest([...memory.getFinishedLogRecords()])!;
    const response = await fetch(`${base}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(mixed),
    });
    expect(response.status).toBe(200);
    const answer = ProtobufLogsSerializer.deserializeResponse(new Uint8Array(await response.arrayBuffer()));
    expect(Number(answer.partialSuccess?.rejectedLogRecords)).toBe(1);
    expect(answer.partialSuccess?.errorMessage).toMatch(/no device id/);
    await provider.shutdown();

    await until(
      '4 log records',
      () => got.logs.length >= 4,
      () => got.logs,
    );
    const service = { 'service.name': 'pump-firmware' };
    const expected: Array<Omit<DeviceLogRecord, 'eventId'>> = [
      {
        deviceId: 'pump-09',
        timestampMs: millisOf(at(2, 1_500_000)),
        severity: 'WARN',
        body: 'pressure high',
        attributes: { bar: '7.5', ...service },
        traceId: spanContext.traceId,
        spanId: spanContext.spanId,
        source: 'otlp',
      },
      {
        deviceId: 'pump-10',
        timestampMs: millisOf(at(3, 0)),
        severity: 'ERROR',
        body: '{"code":17,"text":"stall"}',
        attributes: service,
        traceId: null,
        spanId: null,
        source: 'otlp',
      },
      {
        deviceId: 'pump-11',
        timestampMs: millisOf(at(4, 0)),
        severity: 'FATAL',
        body: 'json-sent',
        attributes: service,
        traceId: null,
        spanId: null,
        source: 'otlp',
      },
      {
        deviceId: 'pump-12',
        timestampMs: millisOf(at(5, 0)),
        severity: 'INFO',
        body: 'kept',
        attributes: service,
        traceId: null,
        spanId: null,
        source: 'otlp',
      },
    ];
    expect(
      got.logs.map(({ eventId: _, ...rest }) => rest).sort((a, b) => a.deviceId.localeCompare(b.deviceId)),
    ).toEqual(expected);

    await until(
      'the orphan dead-lettered',
      () => got.dlq.length >= 1,
      () => got.dlq.length,
    );
    expect(got.dlq).toHaveLength(1);
    const letter = got.dlq[0]!;
    const header = (name: string) => letter.headers?.[name]?.toString();
    expect(header(deadLetterHeaders.reason)).toMatch(/no device id: none of device.id, host.name is set/);
    expect(header(deadLetterHeaders.component)).toBe('otlp');
    expect(header(deadLetterHeaders.sourceTopic)).toBe('otlp:/v1/logs');
    expect(header(otlpDeadLetterHeaders.contentType)).toBe('application/x-protobuf');
    // The dead letter is itself an export request holding the one rejected record, so it can be replayed.
    const replay = await fetch(`${base}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: letter.value!,
    });
    const replayed = ProtobufLogsSerializer.deserializeResponse(new Uint8Array(await replay.arrayBuffer()));
    expect(Number(replayed.partialSuccess?.rejectedLogRecords)).toBe(1);
  });

  it('answers a JSON partial success per data point and dead-letters the rejected point', async () => {
    const now = `${Date.now()}000000`;
    const point = (value: number, device?: string) => ({
      timeUnixNano: now,
      asDouble: value,
      attributes: device ? [{ key: 'device.id', value: { stringValue: device } }] : [],
    });
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand-made' } }] },
          scopeMetrics: [
            {
              scope: { name: 'manual' },
              metrics: [
                { name: 'tank.level', unit: 'm', gauge: { dataPoints: [point(1.25, 'tank-1'), point(2)] } },
              ],
            },
          ],
        },
      ],
    };
    const before = got.telemetry.length;
    const metricLetters = () =>
      got.dlq.filter((m) => m.headers?.[deadLetterHeaders.sourceTopic]?.toString() === 'otlp:/v1/metrics');
    const response = await fetch(`${base}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: '1',
        errorMessage: 'no device id: none of device.id, host.name is set',
      },
    });
    await until(
      'the tank sample',
      () => got.telemetry.length > before && metricLetters().length > 0,
      () => got,
    );
    expect(got.telemetry.slice(before)).toEqual([
      {
        eventId: expect.any(String),
        deviceId: 'tank-1',
        timestampMs: Number(now.slice(0, -6)),
        metric: 'tank.level',
        value: 1.25,
        unit: 'm',
        quality: 'GOOD',
        labels: { 'service.name': 'hand-made' },
        source: 'otlp',
      },
    ]);
    expect(metricLetters()).toHaveLength(1);
    const letter = JSON.parse(metricLetters()[0]!.value!.toString()) as typeof body;
    expect(letter.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.gauge.dataPoints).toEqual([point(2)]);
    expect((await app.get(HealthRegistry).summary()).components['otlp']?.state).toBe('up');
  });
});
