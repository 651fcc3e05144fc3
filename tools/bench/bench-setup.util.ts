/**
 * What every benchmark sets up the same way: quiet JSON logs with progress lines, a namespace of its own on
 * the broker with the project's topics, the fleet's naming, the Nest modules a component needs, and CPU and
 * lag probes. Benchmarks print figures and assert nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DynamicModule } from '@nestjs/common';
import { AvroModule, AvroSerde, avroConfigSection, EventCodec } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import { eventStreams, type TelemetrySample } from '@sentio/events';
import {
  consumerLag,
  createKafka,
  ensureTopics,
  eventTopics,
  KafkaModule,
  kafkaConfigSection,
  streamTopicSpecs,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import {
  configuredLogLevel,
  createLogger,
  ObservabilityModule,
  routeProcessWarnings,
  type Logger,
} from '@sentio/observability';
import type { Kafka } from 'kafkajs';

/** Logs at `warn` unless SENTIO_LOG_LEVEL says otherwise; progress lines always show. */
export function benchLoggers(): { logger: Logger; progressLog: Logger } {
  const logger = createLogger('bench', process.env['SENTIO_LOG_LEVEL'] ? configuredLogLevel() : 'warn');
  routeProcessWarnings(logger);
  return { logger, progressLog: createLogger('bench', 'info') };
}

/** The benchmark fleet: devices `dev-00000`... each reporting these ten metrics. */
export const BENCH_METRICS = [
  'temperature',
  'pressure',
  'vibration',
  'current',
  'flow',
  'speed',
  'power',
  'humidity',
  'level',
  'torque',
];

export const benchDeviceId = (d: number): string => `dev-${String(d).padStart(5, '0')}`;

export interface BenchBackbone {
  /** Short random id: namespaces, groups and databases of one run never meet another run's. */
  id: string;
  namespace: string;
  kafkaConfig: KafkaConfig;
  registryUrl: string;
  kafka: Kafka;
  topics: EventTopics;
  serde: AvroSerde;
  telemetryCodec(): Promise<EventCodec<TelemetrySample>>;
}

/** A namespace of its own (`<prefix>-<id>`) with every stream's topic created, and a client to it. */
export async function benchBackbone(
  prefix: string,
  logger: Logger,
  env: Record<string, string> = {},
): Promise<BenchBackbone> {
  const id = randomBytes(3).toString('hex');
  const namespace = `${prefix}-${id}`;
  const config = loadConfig([kafkaConfigSection, avroConfigSection], {
    env: { ...process.env, ...env, SENTIO_NAMESPACE: namespace },
  });
  const kafka = createKafka(config.kafka, logger, prefix);
  await ensureTopics(kafka, streamTopicSpecs(config.kafka), logger);
  const topics = eventTopics(namespace);
  const serde = AvroSerde.forUrl(config.avro.registryUrl);
  return {
    id,
    namespace,
    kafkaConfig: config.kafka,
    registryUrl: config.avro.registryUrl,
    kafka,
    topics,
    serde,
    telemetryCodec: () => EventCodec.register(serde, eventStreams.telemetry, topics.telemetry),
  };
}

/** The platform's shared modules, as a component needs them in a benchmark's own Nest application. */
export function benchPlatformModules(
  kafkaConfig: KafkaConfig,
  registryUrl: string,
  logger: Logger,
): DynamicModule[] {
  return [
    ObservabilityModule.forRoot(logger),
    KafkaModule.forRoot(kafkaConfig, logger),
    AvroModule.forRoot({ registryUrl }),
  ];
}

/** Resolves (with the time) once the group has committed everything in the topic. */
export async function waitCaughtUp(
  kafka: Kafka,
  groupId: string,
  topic: string,
  pollMs = 50,
): Promise<number> {
  while ((await consumerLag(kafka, groupId, topic)) > 0) await new Promise((r) => setTimeout(r, pollMs));
  return performance.now();
}

/** This process's user + system CPU time, in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** User + system CPU seconds of another process so far, from /proc (Linux). */
export async function processCpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
