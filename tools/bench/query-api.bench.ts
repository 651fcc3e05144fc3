/**
 * Benchmark of the query API over a fleet-sized embedded ClickHouse: generates telemetry shaped like the
 * simulator (devices x 10 metrics, spread evenly over --days up to now), a day of logs and a day of anomalies,
 * inserted directly in big blocks (the rollup views fill themselves); then starts the API in-process and
 * measures p50/p95 of the console's typical queries through HTTP and of the same SQL run directly (the
 * query repositories on the same store), and prints the ratio. Prints figures; asserts nothing.
 *
 *   node --import @swc-node/register/esm-register tools/bench/query-api.bench.ts [--rows 100000000] [--devices 10000] [--days 30] [--iterations 50] [--path DIR]
 *
 * A --path that already holds the rows skips generation, so the 100M-row folder can be measured again.
 * Needs Kafka and a schema registry (the API's live feed and status read them): KAFKA_BROKERS,
 * SCHEMA_REGISTRY_URL, or `bin/sentio up --no-simulator`.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { avroConfigSection } from '@sentio/avro';
import {
  AnomaliesRepository,
  ApiUsersRepository,
  ClickHouseStore,
  clickHouseConfigSection,
  ClickHouseModule,
  DetectionsQueryRepository,
  DevicesQueryRepository,
  DevicesRepository,
  LogsQueryRepository,
  LogsRepository,
  MetricsQueryRepository,
  MetricsRepository,
  USER_READ_TTL_MS,
} from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type { Anomaly, DeviceLifecycle, DeviceLogRecord, TelemetrySample } from '@sentio/events';
import { kafkaConfigSection } from '@sentio/kafka';
import { progressReporter } from '@sentio/observability';
import { queryApiConfigSection, QueryApiModule } from '@sentio/query-api';
import {
  BENCH_METRICS as METRICS,
  benchDeviceId as device,
  benchLoggers,
  benchPlatformModules,
  percentile,
} from './bench-setup.util.js';

const { logger, progressLog } = benchLoggers();

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000000' },
    devices: { type: 'string', default: '10000' },
    days: { type: 'string', default: '30' },
    iterations: { type: 'string', default: '50' },
    block: { type: 'string', default: '500000' },
    path: { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const DEVICES = Number(args.devices);
const DAYS = Number(args.days);
const ITERATIONS = Number(args.iterations);
const BLOCK = Number(args.block);
const DAY_MS = 86_400_000;
const NOW = Math.floor(Date.now() / 60_000) * 60_000;

@Module({})
class BenchModule {}

/** Rows in time order, every device and metric at each step, like a fleet reporting live. */
function* metricBlocks(): Generator<TelemetrySample[]> {
  const series = DEVICES * METRICS.length;
  const steps = Math.max(1, Math.floor(ROWS / series));
  const intervalMs = (DAYS * DAY_MS) / steps;
  let block: TelemetrySample[] = [];
  let i = 0;
  for (let step = 0; step < steps; step++) {
    const stepStart = NOW - DAYS * DAY_MS + step * intervalMs;
    for (let d = 0; d < DEVICES; d++) {
      for (let m = 0; m < METRICS.length; m++) {
        block.push({
          eventId: `b-${i++}`,
          deviceId: device(d),
          // Devices report at their own phase within the interval.
          timestampMs: Math.floor(stepStart + (((d * 7919) % 1000) / 1000) * intervalMs),
          metric: METRICS[m]!,
          value: 20 + m * 5 + Math.sin(step / 24 + d) * 3 + (i % 13) / 10,
          unit: 'u',
          quality: i % 997 === 0 ? 'BAD' : 'GOOD',
          labels: {},
          source: 'bench',
        });
        if (block.length >= BLOCK) {
          yield block;
          block = [];
        }
      }
    }
  }
  if (block.length > 0) yield block;
}

function lifecycle(): DeviceLifecycle[] {
  return Array.from({ length: DEVICES }, (_, d) => ({
    eventId: `life-${d}`,
    deviceId: device(d),
    timestampMs: NOW - DAYS * DAY_MS,
    kind: 'DISCOVERED',
    deviceType: ['pump', 'motor', 'environment'][d % 3]!,
    vendor: 'acme',
    model: 'x1',
    connector: 'simulator',
    online: d % 50 !== 0,
    labels: { site: 'bench' },
    metrics: METRICS.map((name) => ({ name, unit: 'u' })),
  }));
}

/** One log record per 100 metric rows, over the last day; one in 20 mentions a bearing. */
function* logBlocks(): Generator<DeviceLogRecord[]> {
  const total = Math.max(1000, Math.floor(ROWS / 100));
  let block: DeviceLogRecord[] = [];
  for (let i = 0; i < total; i++) {
    block.push({
      eventId: `log-${i}`,
      deviceId: device(i % DEVICES),
      timestampMs: NOW - DAY_MS + Math.floor((i / total) * DAY_MS),
      severity: (['INFO', 'INFO', 'WARN', 'ERROR'] as const)[i % 4]!,
      body: i % 20 === 0 ? `bearing temperature high on shaft ${i % 7}` : `routine reading ${i} ok`,
      attributes: {},
      traceId: null,
      spanId: null,
      source: 'bench',
    });
    if (block.length >= BLOCK) {
      yield block;
      block = [];
    }
  }
  if (block.length > 0) yield block;
}

function anomalies(): Anomaly[] {
  return Array.from({ length: DEVICES * 2 }, (_, i) => ({
    eventId: `an-${i}`,
    deviceId: device(i % DEVICES),
    assetId: 'line',
    timestampMs: NOW - DAY_MS + Math.floor((i / (DEVICES * 2)) * DAY_MS),
    windowStartMs: NOW - DAY_MS,
    windowEndMs: NOW,
    score: ((i * 7919) % 10_000) / 10_000,
    threshold: 0.9,
    contributions: [{ metric: 'vibration', error: 0.1 }],
    modelId: 'window-ae',
    modelVersion: `v${i % 3}`,
  }));
}

async function measure(run: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await run(-1 - i);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

async function main(): Promise<void> {
  const path = args.path ?? mkdtempSync(join(tmpdir(), 'sentio-bench-query-api-'));
  const env = {
    ...process.env,
    SENTIO_CLICKHOUSE_PATH: path,
    CLICKHOUSE_DATABASE: 'bench',
    SENTIO_NAMESPACE: 'bench-query-api',
  };
  const config = loadConfig([clickHouseConfigSection, kafkaConfigSection, avroConfigSection], { env });
  // Fixed: a reused --path already holds this admin (it is created only while there are no users).
  const admin = { username: 'bench', password: 'bench-query-api-password' };
  const queryApi = loadConfig([queryApiConfigSection], {
    env: {
      // Every iteration asks the same question: with the API's answer cache on, the API column would time
      // the cache, not the path to the engine. The cache's own effect shows in bench:query-concurrency.
      QUERY_API_CACHE_TTL_MS: '0',
      SENTIO_JWT_SECRET: randomBytes(32).toString('hex'),
      SENTIO_ADMIN_USER: admin.username,
      SENTIO_ADMIN_PASSWORD: admin.password,
    },
  }).queryApi;
  const app = await NestFactory.create(
    {
      module: BenchModule,
      imports: [
        ...benchPlatformModules(config.kafka, config.avro.registryUrl, logger),
        ClickHouseModule.forRoot(config.clickhouse, logger),
        QueryApiModule.forRoot(queryApi, logger),
      ],
    },
    { logger: false },
  );

  const metrics = app.get(MetricsRepository);
  const existing = await metrics.count();
  if (existing >= ROWS) {
    console.log(`reusing ${existing.toLocaleString()} metric rows in ${path}`);
  } else {
    const started = performance.now();
    const progress = progressReporter(progressLog, 'generate metrics', ROWS);
    let n = 0;
    for (const block of metricBlocks()) {
      await metrics.insert(block, `bench-metrics-${n}`);
      n += block.length;
      progress.advance(block.length);
    }
    progress.done();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `inserted ${n.toLocaleString()} metric rows in ${seconds.toFixed(1)} s (${Math.round(n / seconds).toLocaleString()} rows/s, rollups included) into ${path}`,
    );
    await app.get(DevicesRepository).insert(lifecycle(), 'bench-devices');
    let b = 0;
    for (const block of logBlocks()) await app.get(LogsRepository).insert(block, `bench-logs-${b++}`);
    await app.get(AnomaliesRepository).insert(anomalies(), 'bench-anomalies');
  }

  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const login = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const http = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const devicesRepo = app.get(DevicesQueryRepository);
  const metricsRepo = app.get(MetricsQueryRepository);
  const detectionsRepo = app.get(DetectionsQueryRepository);
  const logsRepo = app.get(LogsQueryRepository);
  // Both paths query the same device in the same iteration; different iterations, different devices.
  const pick = (i: number) => device((i * 7919 + 13) % DEVICES);
  const aligned = (fromMs: number, toMs: number, stepMs: number) => ({
    fromMs: Math.floor(fromMs / stepMs) * stepMs,
    toMs: Math.ceil(toMs / stepMs) * stepMs,
  });
  const day = { fromMs: NOW - DAY_MS, toMs: NOW };
  const month = { fromMs: NOW - 30 * DAY_MS, toMs: NOW };

  const queries: Array<{
    name: string;
    api: (i: number) => Promise<unknown>;
    sql: (i: number) => Promise<unknown>;
  }> = [
    {
      name: 'fleet overview (100 devices + latest values)',
      api: () => http('/api/devices?limit=100'),
      sql: async () => {
        const page = await devicesRepo.list({ includeRemoved: false, limit: 101 });
        return metricsRepo.latest(page.slice(0, 100).map((d) => d.device_id));
      },
    },
    {
      name: 'one device, one metric, 24 h (5 min, 1m rollup)',
      api: (i) =>
        http(
          `/api/metrics/series?device=${pick(i)}&metric=pressure&from=${day.fromMs}&to=${day.toMs}&step=5m`,
        ),
      sql: (i) =>
        metricsRepo.series({
          device: pick(i),
          metric: 'pressure',
          ...aligned(day.fromMs, day.toMs, 300_000),
          stepMs: 300_000,
          agg: 'avg',
          resolution: '1m',
        }),
    },
    {
      name: 'one device, one metric, 30 days (3 h, 1h rollup)',
      api: (i) =>
        http(
          `/api/metrics/series?device=${pick(i)}&metric=pressure&from=${month.fromMs}&to=${month.toMs}&step=3h`,
        ),
      sql: (i) =>
        metricsRepo.series({
          device: pick(i),
          metric: 'pressure',
          ...aligned(month.fromMs, month.toMs, 10_800_000),
          stepMs: 10_800_000,
          agg: 'avg',
          resolution: '1h',
        }),
    },
    {
      name: 'top 20 devices by anomaly score, 24 h',
      api: () => http(`/api/anomalies/top-devices?from=${day.fromMs}&to=${day.toMs}&limit=20`),
      sql: () => detectionsRepo.topDevices({ ...day, limit: 20 }),
    },
    {
      name: 'log search "bearing", a day, newest 100',
      api: () => http(`/api/logs?from=${day.fromMs}&to=${day.toMs}&contains=bearing&limit=100`),
      sql: () => logsRepo.search({ ...day, contains: 'bearing', limit: 101 }),
    },
  ];

  const rows: string[][] = [];
  for (const q of queries) {
    const api = await measure(q.api);
    const sql = await measure(q.sql);
    rows.push([
      q.name,
      api.p50.toFixed(1),
      api.p95.toFixed(1),
      sql.p50.toFixed(1),
      sql.p95.toFixed(1),
      (api.p50 / sql.p50).toFixed(2),
    ]);
  }
  // What every request paid before user reads were reused for a second: the token's user, read with FINAL.
  const store = app.get(ClickHouseStore);
  const userLookup = await measure(() => new ApiUsersRepository(store).find(admin.username));
  const rowCount = await metrics.count();
  console.log(
    `\n${rowCount.toLocaleString()} metric rows, ${DEVICES} devices x ${METRICS.length} metrics over ${DAYS} days; ${ITERATIONS} runs each (ms)`,
  );
  const header = ['query', 'API p50', 'API p95', 'SQL p50', 'SQL p95', 'API/SQL p50'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows]) {
    console.log(
      row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    );
  }
  console.log(
    `\nuser lookup per request (api_users FINAL), which the API now reuses for ${USER_READ_TTL_MS} ms: p50 ${userLookup.p50.toFixed(1)} ms, p95 ${userLookup.p95.toFixed(1)} ms`,
  );
  await app.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    logger.fatal({ err: error }, 'benchmark failed');
    console.error(error);
    process.exit(1);
  },
);
