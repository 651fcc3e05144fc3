import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type EventStream } from '@sentio/events';
import {
  DeadLetterPublisher,
  EVENT_TOPICS,
  EventProducer,
  LOGGER,
  RecordRefusedError,
  type EventTopics,
} from '@sentio/kafka';
import { HealthRegistry, type Logger } from '@sentio/observability';
import type { OtlpConfig } from './otlp.config.js';
import {
  encodingOf,
  HttpProblem,
  mediaTypes,
  readBody,
  rpcCode,
  signalPaths,
  type OtlpEncoding,
} from './otlp-http.util.js';
import { mapLogs } from './otlp-logs-mapping.util.js';
import type { MappingOptions } from './otlp-mapping.util.js';
import { mapMetrics } from './otlp-metrics-mapping.util.js';
import { mapTraces } from './otlp-traces-mapping.util.js';
import { otlpMetrics } from './otlp-metrics.util.js';
import {
  decodeProtobufRequest,
  encodeProtobufRequest,
  encodeProtobufResponse,
  encodeProtobufStatus,
} from './otlp-protobuf.util.js';
import type { OtlpMapped, OtlpRejection, OtlpSignal } from './otlp.type.js';

export const OTLP_CONFIG = Symbol('OtlpConfig');

/** Header names on the receiver's dead letters, beside libs/kafka's own. */
export const otlpDeadLetterHeaders = {
  contentType: 'content-type',
  peer: 'sentio.otlp.peer',
} as const;

const rejectedField: Record<OtlpSignal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

/** How much of an oversized record its dead letter keeps. */
const OVERSIZED_KEEP_BYTES = 4096;

interface SignalRoute {
  map: (request: unknown, options: MappingOptions) => OtlpMapped<unknown>;
  stream: EventStream<never>;
  codec: EventCodec<unknown>;
}

/**
 * The OTLP/HTTP receiver, on a listener of its own: exporters authenticate (if at all) at a gateway in front,
 * and the platform's HTTP port carries a global auth guard they could not pass. A request is answered only
 * after Kafka has acknowledged every event and dead letter it gave, so a 200 means nothing is half-written;
 * a failed produce answers 503, which exporters retry, and stable event ids let ingest drop the repeats.
 */
@Injectable()
export class OtlpReceiver implements OnApplicationBootstrap, OnModuleDestroy {
  private server: Server | undefined;
  private routes: Record<OtlpSignal, SignalRoute> | undefined;
  private readonly logger: Logger;

  constructor(
    @Inject(OTLP_CONFIG) private readonly config: OtlpConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(EventProducer) private readonly producer: EventProducer,
    @Inject(DeadLetterPublisher) private readonly deadLetters: DeadLetterPublisher,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
  ) {
    this.logger = logger.child({ component: 'otlp' });
  }

  /** Where the receiver listens; with port 0, the port the system chose. */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const codec = async <T>(stream: EventStream<T>, topic: string) =>
      (await EventCodec.register(this.serde, stream, topic)) as EventCodec<unknown>;
    this.routes = {
      traces: {
        map: mapTraces,
        stream: eventStreams.spans as EventStream<never>,
        codec: await codec(eventStreams.spans, this.topics.spans),
      },
      metrics: {
        map: mapMetrics,
        stream: eventStreams.telemetry as EventStream<never>,
        codec: await codec(eventStreams.telemetry, this.topics.telemetry),
      },
      logs: {
        map: mapLogs,
        stream: eventStreams.logs as EventStream<never>,
        codec: await codec(eventStreams.logs, this.topics.logs),
      },
    };
    const server = createServer((request, response) => {
      void this.handle(request, response);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.health.register('otlp', () =>
      server.listening
        ? { state: 'up', detail: { port: this.address()?.port } }
        : { state: 'down', detail: { reason: 'not listening' } },
    );
    this.logger.info({ host: this.config.host, port: this.address()?.port }, 'OTLP/HTTP receiver listening');
  }

  /** Stops accepting and lets requests in flight finish (their produce included) before Kafka goes away. */
  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const signal = signalPaths[path];
    let encoding: OtlpEncoding = 'json';
    try {
      if (!signal)
        throw new HttpProblem(
          404,
          `no OTLP endpoint at ${path}: expected /v1/traces, /v1/metrics or /v1/logs`,
        );
      if (request.method !== 'POST') {
        response.setHeader('allow', 'POST');
        throw new HttpProblem(405, `${request.method ?? ''} is not allowed: OTLP exports are POSTed`);
      }
      encoding = encodingOf(request.headers['content-type']);
      const done = otlpMetrics.timer(signal);
      try {
        const body = await readBody(request, this.config.maxBodyBytes);
        await this.export(signal, encoding, body, request.socket.remoteAddress ?? '', response);
        otlpMetrics.request(signal, 200);
      } finally {
        done();
      }
    } catch (error) {
      const problem =
        error instanceof HttpProblem
          ? error
          : new HttpProblem(503, 'events could not be written to Kafka; retry later');
      if (!(error instanceof HttpProblem)) this.logger.error({ err: error, signal }, 'OTLP export failed');
      otlpMetrics.request(signal ?? 'unknown', problem.status);
      this.answerProblem(response, encoding, problem);
    }
  }

  private async export(
    signal: OtlpSignal,
    encoding: OtlpEncoding,
    body: Buffer,
    peer: string,
    response: ServerResponse,
  ): Promise<void> {
    const route = this.routes![signal];
    let decoded: unknown;
    let mapped: OtlpMapped<unknown>;
    try {
      decoded =
        encoding === 'protobuf' ? decodeProtobufRequest(signal, body) : JSON.parse(body.toString('utf8'));
      mapped = route.map(decoded, { deviceIdAttributes: this.config.deviceIdAttributes, nowMs: Date.now() });
    } catch (error) {
      // Whatever the decoder or mapper trips over is the sender's input, never worth a retry.
      throw new HttpProblem(400, `request is not an OTLP ${signal} export: ${(error as Error).message}`);
    }
    const { records, items } = mapped;
    const rejected = [...mapped.rejected];
    // A record over the producer's limit (a log body of megabytes, say) is rejected on its own: sent, it
    // would be refused, and a 503 would make the exporter send the whole request again and again.
    const messages: Array<{ key: string; value: Buffer }> = [];
    const oversized: Array<{ key: string; value: Buffer; reason: string }> = [];
    for (const r of records) {
      const message = { key: route.stream.key(r as never), value: route.codec.encode(r) };
      const bytes = Buffer.byteLength(message.key) + message.value.length;
      if (bytes <= this.producer.maxRecordBytes) messages.push(message);
      else
        oversized.push({
          ...message,
          reason: `${signal} record of ${bytes} bytes exceeds the limit of ${this.producer.maxRecordBytes} (KAFKA_PRODUCER_MAX_RECORD_BYTES)`,
        });
    }
    for (const o of oversized) rejected.push({ reason: o.reason, request: {}, key: o.key });
    try {
      await Promise.all([
        this.producer.send(route.codec.topic, messages),
        this.deadLetter(signal, encoding, mapped.rejected, peer),
        this.deadLetters.publish(
          oversized.map((o) => ({
            sourceTopic: `otlp:/v1/${signal}`,
            partition: -1,
            offset: '-1',
            key: o.key,
            value: o.value,
            reason: o.reason,
            component: 'otlp',
            maxValueBytes: OVERSIZED_KEEP_BYTES,
            headers: {
              [otlpDeadLetterHeaders.contentType]: 'avro/binary',
              [otlpDeadLetterHeaders.peer]: peer,
            },
          })),
        ),
      ]);
    } catch (error) {
      // Kafka refuses these records whatever happens: retrying the export would never get through.
      if (error instanceof RecordRefusedError)
        throw new HttpProblem(400, `Kafka refused the ${signal}: ${error.message}`);
      throw error;
    }
    otlpMetrics.eventsOut(route.stream.stream, messages.length);
    otlpMetrics.eventsOut('dlq', rejected.length);
    otlpMetrics.items(signal, items - rejected.length, rejected.length);
    const answer =
      rejected.length === 0
        ? {}
        : {
            partialSuccess: {
              [rejectedField[signal]]: String(rejected.length),
              errorMessage: summarize(rejected),
            },
          };
    this.answer(
      response,
      200,
      encoding,
      encoding === 'protobuf' ? encodeProtobufResponse(signal, answer) : JSON.stringify(answer),
    );
  }

  private deadLetter(
    signal: OtlpSignal,
    encoding: OtlpEncoding,
    rejected: OtlpRejection[],
    peer: string,
  ): Promise<void> {
    return this.deadLetters.publish(
      rejected.map((r) => ({
        sourceTopic: `otlp:/v1/${signal}`,
        partition: -1,
        offset: '-1',
        key: r.key,
        value: encoding === 'protobuf' ? encodeProtobufRequest(signal, r.request) : JSON.stringify(r.request),
        reason: r.reason,
        component: 'otlp',
        headers: {
          [otlpDeadLetterHeaders.contentType]: mediaTypes[encoding],
          [otlpDeadLetterHeaders.peer]: peer,
        },
      })),
    );
  }

  private answerProblem(response: ServerResponse, encoding: OtlpEncoding, problem: HttpProblem): void {
    const status = { code: rpcCode(problem.status), message: problem.message };
    if (problem.status === 503) response.setHeader('retry-after', '5');
    if (problem.status === 413 || problem.status === 415) response.setHeader('connection', 'close');
    this.answer(
      response,
      problem.status,
      encoding,
      encoding === 'protobuf' ? encodeProtobufStatus(status) : JSON.stringify(status),
    );
  }

  private answer(
    response: ServerResponse,
    status: number,
    encoding: OtlpEncoding,
    body: Buffer | string,
  ): void {
    if (response.headersSent) return;
    response.writeHead(status, {
      'content-type': mediaTypes[encoding],
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  }
}

function summarize(rejected: OtlpRejection[]): string {
  const reasons = [...new Set(rejected.map((r) => r.reason))];
  const shown = reasons.slice(0, 5).join('; ');
  return reasons.length > 5 ? `${shown}; and ${reasons.length - 5} more reasons` : shown;
}
