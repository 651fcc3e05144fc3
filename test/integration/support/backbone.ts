import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type TelemetrySample } from '@sentio/events';
import {
  consumerLag,
  createKafka,
  ensureTopics,
  eventTopics,
  EventProducer,
  kafkaConfigSection,
  streamTopicSpecs,
  type KafkaConfig,
} from '@sentio/kafka';
import { createLogger } from '@sentio/observability';
import { ClickHouseStore, clickHouseConfigSection } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type { Kafka, Message } from 'kafkajs';

export const logger = createLogger('test', process.env['SENTIO_TEST_LOG_LEVEL'] ?? 'warn');

/** A namespace of topics, a ClickHouse database and folder that belong to one test alone. */
export interface Sandbox {
  namespace: string;
  database: string;
  clickhousePath: string;
  kafkaConfig: KafkaConfig;
  kafka: Kafka;
  topics: ReturnType<typeof eventTopics>;
  env: Record<string, string>;
}

export async function sandbox(name: string): Promise<Sandbox> {
  const id = `${name}_${randomBytes(3).toString('hex')}`;
  const namespace = id.replace(/_/g, '-');
  const kafkaConfig = loadConfig([kafkaConfigSection], {
    env: { ...process.env, SENTIO_NAMESPACE: namespace },
  }).kafka;
  const kafka = createKafka(kafkaConfig, logger, `test-${namespace}`);
  await ensureTopics(kafka, streamTopicSpecs(kafkaConfig), logger);
  const clickhousePath = mkdtempSync(join(tmpdir(), `sentio-${name}-`));
  return {
    namespace,
    database: id,
    clickhousePath,
    kafkaConfig,
    kafka,
    topics: eventTopics(namespace),
    env: {
      SENTIO_NAMESPACE: namespace,
      CLICKHOUSE_DATABASE: id,
      SENTIO_CLICKHOUSE_PATH: clickhousePath,
      INGEST_GROUP_ID: `ingest-${namespace}`,
      // Any free port: a running `sentio up` (or another test) may hold OTLP's 4318.
      OTLP_HTTP_PORT: '0',
    },
  };
}

export async function telemetryProducer(box: Sandbox): Promise<{
  codec: EventCodec<TelemetrySample>;
  producer: EventProducer;
  send: (messages: Message[]) => Promise<void>;
}> {
  const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
  const codec = await EventCodec.register<TelemetrySample>(
    serde,
    eventStreams.telemetry,
    box.topics.telemetry,
  );
  const producer = new EventProducer(
    box.kafka,
    { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
    logger,
  );
  await producer.connect();
  return { codec, producer, send: (messages) => producer.send(box.topics.telemetry, messages) };
}

/** Deterministic, valid telemetry: `count` samples spread over `devices` devices, one second apart per device. */
export function telemetry(count: number, devices = 100, startMs = Date.now() - 3600_000): TelemetrySample[] {
  return Array.from({ length: count }, (_, i) => ({
    eventId: `evt-${i}`,
    deviceId: `dev-${String(i % devices).padStart(4, '0')}`,
    timestampMs: startMs + Math.floor(i / devices) * 1000,
    metric: i % 2 === 0 ? 'temperature' : 'pressure',
    value: Math.sin(i / 50) * 10 + 20,
    unit: i % 2 === 0 ? 'degC' : 'bar',
    quality: 'GOOD',
    labels: { site: 'test' },
    source: 'test',
  }));
}

/** Produces the samples to the sandbox's telemetry topic through the registry-backed codec. */
export async function produceTelemetry(
  box: Sandbox,
  samples: TelemetrySample[],
  key = (s: TelemetrySample) => s.deviceId,
): Promise<void> {
  const { codec, producer, send } = await telemetryProducer(box);
  await send(samples.map((s) => ({ key: key(s), value: codec.encode(s) })));
  await producer.disconnect();
}

/** Opens the sandbox's embedded ClickHouse: only once the platform process that held it has exited. */
export function openStore(box: Sandbox): ClickHouseStore {
  return ClickHouseStore.open(loadConfig([clickHouseConfigSection], { env: box.env }).clickhouse, logger);
}

/** Whether the group has committed every record of the topic. */
export async function caughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  return (await consumerLag(kafka, groupId, topic)) === 0;
}

/** Waits until the group has committed every record of the topic: the sink has nothing left to do. */
export async function waitCaughtUp(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await caughtUp(kafka, groupId, topic)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`group ${groupId} did not catch up on ${topic} within ${timeoutMs} ms`);
}
