import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule, AvroSerde, avroConfigSection, EventCodec } from '@sentio/avro';
import { clickHouseConfigSection, ClickHouseModule } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import { eventStreams, type Anomaly, type DeviceLifecycle, type TelemetrySample } from '@sentio/events';
import { EventProducer, KafkaModule } from '@sentio/kafka';
import { ObservabilityModule } from '@sentio/observability';
import { queryApiConfigSection, QueryApiModule } from '@sentio/query-api';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { logger, sandbox, type Sandbox } from './support/backbone.js';

const ADMIN = { username: 'admin', password: 'admin-password-1234' };
const MAX_SUBSCRIPTIONS = 3;

@Module({})
class TestRootModule {}

interface Received<T> {
  items: T[];
  errors: unknown[];
}

describe('query API live subscriptions over graphql-ws, fed from Kafka', () => {
  let box: Sandbox;
  let app: INestApplication;
  let wsUrl: string;
  let token: string;
  let producer: EventProducer;
  let codecs: {
    telemetry: EventCodec<TelemetrySample>;
    anomalies: EventCodec<Anomaly>;
    lifecycle: EventCodec<DeviceLifecycle>;
  };
  const clients: Client[] = [];

  const connect = (connectionParams?: Record<string, string>) => {
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      shouldRetry: () => false,
    });
    clients.push(client);
    return client;
  };

  /** Collects what a subscription delivers, errors included. */
  const subscribe = <T>(client: Client, query: string, field: string): Received<T> => {
    const received: Received<T> = { items: [], errors: [] };
    client.subscribe<Record<string, T>>(
      { query },
      {
        next: (result) => {
          if (result.errors) received.errors.push(...result.errors);
          if (result.data) received.items.push(result.data[field]!);
        },
        error: (error) => received.errors.push(error),
        complete: () => undefined,
      },
    );
    return received;
  };

  /**
   * The feed reads from the end of the topics, so events produced before its group settled are never seen:
   * produce again until something arrives.
   */
  const produceUntil = async (produce: () => Promise<void>, arrived: () => boolean) => {
    for (let attempt = 0; attempt < 120 && !arrived(); attempt++) {
      await produce();
      for (let i = 0; i < 5 && !arrived(); i++) await new Promise((r) => setTimeout(r, 100));
    }
    expect(arrived()).toBe(true);
  };

  beforeAll(async () => {
    box = await sandbox('query_api_live');
    const env = { ...process.env, ...box.env };
    const config = loadConfig([clickHouseConfigSection, avroConfigSection], { env });
    const queryApi = loadConfig([queryApiConfigSection], {
      env: {
        SENTIO_JWT_SECRET: randomBytes(32).toString('hex'),
        SENTIO_ADMIN_USER: ADMIN.username,
        SENTIO_ADMIN_PASSWORD: ADMIN.password,
        QUERY_API_LIVE_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
      },
    }).queryApi;
    app = await NestFactory.create(
      {
        module: TestRootModule,
        imports: [
          { module: ObservabilityModule },
          KafkaModule.forRoot(box.kafkaConfig, logger),
          AvroModule.forRoot(config.avro),
          ClickHouseModule.forRoot(config.clickhouse, logger),
          QueryApiModule.forRoot(queryApi, logger),
        ],
      },
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    wsUrl = `${base.replace(/^http/, 'ws')}/api/graphql`;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    token = ((await login.json()) as { accessToken: string }).accessToken;

    const serde = AvroSerde.forUrl(config.avro.registryUrl);
    codecs = {
      telemetry: await EventCodec.register(serde, eventStreams.telemetry, box.topics.telemetry),
      anomalies: await EventCodec.register(serde, eventStreams.anomalies, box.topics.anomalies),
      lifecycle: await EventCodec.register(serde, eventStreams.lifecycle, box.topics.lifecycle),
    };
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 1000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
  });

  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await producer?.disconnect();
    await app?.close();
  });

  let seq = 0;
  const sample = (deviceId: string, metric: string, value: number): TelemetrySample => ({
    eventId: `live-${seq++}`,
    deviceId,
    timestampMs: Date.now(),
    metric,
    value,
    unit: 'bar',
    quality: 'GOOD',
    labels: {},
    source: 'test',
  });
  const sendTelemetry = (samples: TelemetrySample[]) =>
    producer.send(
      box.topics.telemetry,
      samples.map((s) => ({ key: s.deviceId, value: codecs.telemetry.encode(s) })),
    );

  it('refuses a socket without a valid token', async () => {
    for (const params of [undefined, { authorization: 'Bearer not-a-token' }]) {
      const received = subscribe(connect(params), 'subscription { lifecycle { deviceId } }', 'lifecycle');
      await expect.poll(() => received.errors.length).toBeGreaterThan(0);
      expect((received.errors[0] as { code?: number }).code).toBe(4403);
      expect(received.items).toEqual([]);
    }
  });

  it('streams telemetry, anomalies and lifecycle changes produced to Kafka, per device', async () => {
    const client = connect({ authorization: `Bearer ${token}` });
    const telemetry = subscribe<{ deviceId: string; values: Array<{ metric: string; value: number }> }>(
      client,
      'subscription { telemetry(device: "dev-0001") { deviceId values { metric value unit quality ts } } }',
      'telemetry',
    );
    const anomalies = subscribe<{ deviceId: string; score: number; modelVersion: string }>(
      client,
      'subscription { anomalies { deviceId score modelVersion } }',
      'anomalies',
    );
    const lifecycle = subscribe<{ deviceId: string; kind: string; online: boolean }>(
      client,
      'subscription { lifecycle(device: "dev-0001") { deviceId kind online } }',
      'lifecycle',
    );

    await produceUntil(
      () => sendTelemetry([sample('dev-0002', 'pressure', 9), sample('dev-0001', 'pressure', 4.5)]),
      () => telemetry.items.length > 0,
    );
    expect(telemetry.items[0]).toEqual({
      deviceId: 'dev-0001',
      values: [expect.objectContaining({ metric: 'pressure', value: 4.5 })],
    });
    // The filter holds: dev-0002's samples never reach this subscription.
    expect(telemetry.items.every((t) => t.deviceId === 'dev-0001')).toBe(true);

    const anomaly: Anomaly = {
      eventId: 'live-anomaly',
      deviceId: 'dev-0003',
      assetId: 'line-1',
      timestampMs: Date.now(),
      windowStartMs: Date.now() - 10_000,
      windowEndMs: Date.now(),
      score: 0.93,
      threshold: 0.5,
      contributions: [],
      modelId: 'window-ae',
      modelVersion: 'v7',
    };
    await produceUntil(
      () =>
        producer.send(box.topics.anomalies, [
          { key: anomaly.deviceId, value: codecs.anomalies.encode(anomaly) },
        ]),
      () => anomalies.items.length > 0,
    );
    expect(anomalies.items[0]).toEqual({ deviceId: 'dev-0003', score: 0.93, modelVersion: 'v7' });

    const change = (deviceId: string): DeviceLifecycle => ({
      eventId: `live-life-${seq++}`,
      deviceId,
      timestampMs: Date.now(),
      kind: 'OFFLINE',
      deviceType: 'pump',
      vendor: null,
      model: null,
      connector: 'simulator',
      online: false,
      labels: {},
      metrics: [],
    });
    await produceUntil(
      () =>
        producer.send(
          box.topics.lifecycle,
          ['dev-0009', 'dev-0001'].map((d) => ({ key: d, value: codecs.lifecycle.encode(change(d)) })),
        ),
      () => lifecycle.items.length > 0,
    );
    expect(lifecycle.items[0]).toEqual({ deviceId: 'dev-0001', kind: 'OFFLINE', online: false });

    // A fourth subscription on the same connection is over the limit.
    const extra = subscribe(client, 'subscription { lifecycle { deviceId } }', 'lifecycle');
    await expect.poll(() => extra.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(extra.errors)).toContain(`at most ${MAX_SUBSCRIPTIONS} subscriptions`);
    expect([telemetry, anomalies, lifecycle].every((r) => r.errors.length === 0)).toBe(true);
  });

  it('folds a burst of samples into few updates that end with the newest values', async () => {
    const client = connect({ authorization: `Bearer ${token}` });
    const telemetry = subscribe<{ deviceId: string; values: Array<{ metric: string; value: number }> }>(
      client,
      'subscription { telemetry(device: "dev-0042") { deviceId values { metric value } } }',
      'telemetry',
    );
    await produceUntil(
      () => sendTelemetry([sample('dev-0042', 'flow', 0)]),
      () => telemetry.items.length > 0,
    );
    const burst = Array.from({ length: 50 }, (_, i) => [
      sample('dev-0042', 'flow', i + 1),
      sample('dev-0042', 'temperature', 100 + i),
    ]).flat();
    const before = telemetry.items.length;
    await sendTelemetry(burst);
    const last = () => telemetry.items.at(-1)?.values;
    await expect.poll(last, { timeout: 30_000 }).toEqual([
      { metric: 'flow', value: 50 },
      { metric: 'temperature', value: 149 },
    ]);
    // 100 samples arrived as far fewer updates: at most one per interval per device.
    expect(telemetry.items.length - before).toBeLessThan(burst.length / 4);
  });
});
