/**
 * The query side under concurrent load, all in one process with the embedded engine: `sentio run ingest,api`
 * (its own ClickHouse folder and topic namespace) ingests telemetry at a fixed rate while N console clients
 * ask the console's typical questions over GraphQL, as the console does. Prints requests/s, p50/p99 per query
 * and the produce -> queryable latency of the ingest with and without the clients, and the ratios the goals
 * of issue 14 are stated in. Progress on stderr, report on stdout; asserts nothing.
 *
 *   npm run bench:query-concurrency -- [--clients 50] [--hot-devices 10] [--devices 1000] [--history-points 60]
 *                                      [--rate half] [--seconds 30] [--think-ms 0] [--profile DIR]
 *
 * 1. Backfill: lifecycle of every device, then `--history-points` samples per series over the last two hours
 *    (and a log record per 100 samples), produced flat out; the end-to-end rate of that phase is the
 *    ingest's flat-out rate on this machine today (same process, same flush interval as the later phases).
 * 2. Idle: telemetry at `--rate` (`half` = half of that flat-out rate, or events/s) for `--seconds`, no clients.
 * 3. Loaded: the same rate for the same time while `--clients` closed-loop clients run, each cycling through
 *    fleet overview (100 devices + latest values), one device's p95 series over 2 h at 1-minute steps,
 *    that device's latest values, and the newest 100 log records of the last hour. Client c looks at device
 *    c mod `--hot-devices` (operators watch the devices that matter; `--hot-devices` = `--devices` spreads
 *    them over the whole fleet). `--think-ms` pauses between a client's requests.
 * Latencies of the ingest come from the rows themselves (ingested_at - event time), read after the process
 * stops (the embedded engine binds its folder to one process). `--profile DIR` writes the platform process's
 * CPU profile (main thread) there.
 *
 * Needs Kafka and a schema registry (KAFKA_BROKERS, SCHEMA_REGISTRY_URL; the shared test broker is fine).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EventCodec } from '@sentio/avro';
import { ClickHouseStore, clickHouseConfigSection, MetricsRepository } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import {
  eventStreams,
  type DeviceLifecycle,
  type DeviceLogRecord,
  type TelemetrySample,
} from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { progressReporter } from '@sentio/observability';
import {
  BENCH_METRICS as METRICS,
  benchBackbone,
  benchDeviceId as device,
  benchLoggers,
  percentile,
  waitCaughtUp,
} from './bench-setup.util.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { logger, progressLog } = benchLoggers();

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    'hot-devices': { type: 'string', default: '10' },
    devices: { type: 'string', default: '1000' },
    'history-points': { type: 'string', default: '60' },
    rate: { type: 'string', default: 'half' },
    seconds: { type: 'string', default: '30' },
    'think-ms': { type: 'string', default: '0' },
    port: { type: 'string', default: '18391' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const CLIENTS = Number(args.clients);
const DEVICES = Number(args.devices);
const HOT = Math.min(DEVICES, Number(args['hot-devices']));
const HISTORY_POINTS = Number(args['history-points']);
const SECONDS = Number(args.seconds);
const THINK_MS = Number(args['think-ms']);
const PORT = Number(args.port);
const HOUR_MS = 3_600_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sample(i: number, tsMs: number, source: string): TelemetrySample {
  return {
    eventId: `${source}-${i}`,
    deviceId: device(i % DEVICES),
    timestampMs: tsMs,
    metric: METRICS[Math.floor(i / DEVICES) % METRICS.length]!,
    value: 20 + (i % 1000) / 100,
    unit: 'u',
    quality: 'GOOD',
    labels: { site: 'bench' },
    source,
  };
}

function logRecord(i: number, tsMs: number): DeviceLogRecord {
  return {
    eventId: `log-${i}`,
    deviceId: device(i % DEVICES),
    timestampMs: tsMs,
    severity: (['INFO', 'INFO', 'WARN', 'ERROR'] as const)[i % 4]!,
    body: i % 20 === 0 ? `bearing temperature high on shaft ${i % 7}` : `routine reading ${i} ok`,
    attributes: {},
    traceId: null,
    spanId: null,
    source: 'bench',
  };
}

function lifecycle(d: number): DeviceLifecycle {
  return {
    eventId: `life-${d}`,
    deviceId: device(d),
    timestampMs: Date.now() - 3 * HOUR_MS,
    kind: 'DISCOVERED',
    deviceType: ['pump', 'motor', 'environment'][d % 3]!,
    vendor: 'acme',
    model: 'x1',
    connector: 'simulator',
    online: true,
    labels: { site: 'bench' },
    metrics: METRICS.map((name) => ({ name, unit: 'u' })),
  };
}

/** `sentio run ingest,api` in a child process, as an operator would run the all-in-one. */
function startPlatform(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    [
      ...(args.profile ? ['--cpu-prof', '--cpu-prof-dir', args.profile] : []),
      '--import',
      '@swc-node/register/esm-register',
      resolve(root, 'tools/cli/src/main.ts'),
      'run',
      'ingest,api',
    ],
    {
      cwd: root,
      env: { ...process.env, ...env, SENTIO_HTTP_PORT: String(PORT), SENTIO_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${PORT}`;
  return {
    url,
    async ready(): Promise<void> {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`sentio run ingest,api exited with ${child.exitCode}`);
        try {
          if ((await fetch(`${url}/health`)).ok) return;
        } catch {
          // starting
        }
        await sleep(300);
      }
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Sends `events` samples at `rate`/s (undefined: as fast as the producer goes), stamped with the send time. */
async function produce(
  producer: EventProducer,
  topic: string,
  codec: EventCodec<TelemetrySample>,
  events: number,
  rate: number | undefined,
  source: string,
  stamp: (i: number) => number = () => Date.now(),
): Promise<void> {
  const progress = progressReporter(progressLog, `produce ${source}`, events);
  const t0 = performance.now();
  const chunk = rate ? Math.max(1, Math.round(rate / 50)) : 5000;
  const pending: Promise<void>[] = [];
  for (let sent = 0; sent < events;) {
    const n = Math.min(chunk, events - sent);
    const messages = new Array(n);
    for (let k = 0; k < n; k++) {
      const s = sample(sent + k, stamp(sent + k), source);
      messages[k] = { key: s.deviceId, value: codec.encode(s) };
    }
    pending.push(producer.send(topic, messages));
    sent += n;
    progress.advance(n);
    if (pending.length >= 40) await pending.shift();
    if (rate) {
      const wait = t0 + (sent / rate) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }
  await Promise.all(pending);
  progress.done();
}

/** A percentile of sorted times in whole ms, '-' when there are none. */
function ms(sorted: readonly number[], p: number): string {
  return sorted.length === 0 ? '-' : percentile(sorted, p).toFixed(0);
}

interface ClientQuery {
  name: string;
  body: (client: number) => { query: string; variables: Record<string, unknown> };
}

const DEVICE_FIELDS = `deviceId lastEvent deviceType vendor model connector online removed updatedAt lastSeen
  labels { key value } metrics { name unit } latest { metric value unit quality ts }`;
const iso = (ms: number) => new Date(ms).toISOString();

/** The console's typical reads, as its pages send them (GraphQL, ranges ending now). */
const QUERIES: ClientQuery[] = [
  {
    name: 'fleet overview (100 devices + latest)',
    body: () => ({
      query: `query Devices($limit: Int) { devices(limit: $limit) { nextCursor items { ${DEVICE_FIELDS} } } }`,
      variables: { limit: 100 },
    }),
  },
  {
    name: "one device's p95, 2 h at 1 min",
    body: (c) => ({
      query: `query S($device: String!, $metric: String!, $from: String, $to: String, $step: Duration, $agg: String) {
        metricSeries(device: $device, metric: $metric, from: $from, to: $to, step: $step, agg: $agg) {
          device metric agg resolution stepMs from to points { ts value } } }`,
      variables: {
        device: device(c % HOT),
        metric: 'temperature',
        from: iso(Date.now() - 2 * HOUR_MS),
        to: iso(Date.now()),
        step: '60',
        agg: 'p95',
      },
    }),
  },
  {
    name: "one device's latest values",
    body: (c) => ({
      query: `query L($device: String!) { latest(device: $device) { metric value unit quality ts } }`,
      variables: { device: device(c % HOT) },
    }),
  },
  {
    name: 'logs page (newest 100, last hour)',
    body: () => ({
      query: `query Logs($from: String, $to: String, $limit: Int) { logs(from: $from, to: $to, limit: $limit) {
        nextCursor items { ts deviceId severity body source eventId } } }`,
      variables: { from: iso(Date.now() - HOUR_MS), to: iso(Date.now()), limit: 100 },
    }),
  },
];

/** Closed-loop clients until `stop` resolves; returns each query's latencies (ms) and the request count. */
async function runClients(
  url: string,
  token: string,
  stopAt: Promise<void>,
): Promise<{ times: number[][]; errors: number; seconds: number }> {
  const times = QUERIES.map(() => [] as number[]);
  let stopped = false;
  let errors = 0;
  void stopAt.then(() => (stopped = true));
  const t0 = performance.now();
  const client = async (c: number) => {
    for (let i = c; !stopped; i++) {
      const q = i % QUERIES.length;
      const started = performance.now();
      try {
        const res = await fetch(`${url}/api/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(QUERIES[q]!.body(c)),
        });
        const body = (await res.json()) as { errors?: Array<{ message: string }> };
        if (res.status !== 200 || body.errors) {
          if (errors++ < 3) logger.warn({ status: res.status, errors: body.errors }, 'client query failed');
        } else times[q]!.push(performance.now() - started);
      } catch (error) {
        // A reset connection counts as a failed request, not the end of the run.
        if (errors++ < 3) logger.warn({ err: error }, 'client request failed');
      }
      if (THINK_MS > 0) await sleep(THINK_MS);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  return { times, errors, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const backbone = await benchBackbone('bench-qc', logger, { KAFKA_PRODUCER_BATCH_SIZE: '10000' });
  const { id, namespace, kafka, topics, serde } = backbone;
  const chPath = mkdtempSync(join(tmpdir(), 'sentio-bench-qc-'));
  const admin = { username: 'bench', password: randomBytes(12).toString('hex') };
  const env = {
    SENTIO_NAMESPACE: namespace,
    SENTIO_CLICKHOUSE_PATH: chPath,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    INGEST_GROUP_ID: `bench-qc-ingest-${id}`,
    // Latency-oriented flush, as the backbone benchmark's fixed-rate phases.
    INGEST_FLUSH_INTERVAL_MS: '100',
    INGEST_MAX_BATCH_RECORDS: '100000',
    SENTIO_JWT_SECRET: randomBytes(32).toString('hex'),
    SENTIO_ADMIN_USER: admin.username,
    SENTIO_ADMIN_PASSWORD: admin.password,
  };
  const platform = startPlatform(env);
  const producer = new EventProducer(kafka, backbone.kafkaConfig.producer, logger);
  try {
    await platform.ready();
    await producer.connect();
    const telemetry = await backbone.telemetryCodec();
    const logsCodec = await EventCodec.register(serde, eventStreams.logs, topics.logs);
    const lifecycleCodec = await EventCodec.register(serde, eventStreams.lifecycle, topics.lifecycle);
    await producer.send(
      topics.lifecycle,
      Array.from({ length: DEVICES }, (_, d) => ({
        key: device(d),
        value: lifecycleCodec.encode(lifecycle(d)),
      })),
    );

    // 1. Backfill two hours of history flat out: the ingest's flat-out rate.
    const historyEvents = DEVICES * METRICS.length * HISTORY_POINTS;
    const series = DEVICES * METRICS.length;
    const historyStart = Date.now() - 2 * HOUR_MS;
    const stepMs = (2 * HOUR_MS) / HISTORY_POINTS;
    const logCount = Math.max(1000, Math.floor(historyEvents / 100));
    for (let i = 0; i < logCount; i += 5000) {
      const n = Math.min(5000, logCount - i);
      await producer.send(
        topics.logs,
        Array.from({ length: n }, (_, k) => {
          const r = logRecord(i + k, Date.now() - HOUR_MS + Math.floor(((i + k) / logCount) * HOUR_MS));
          return { key: r.deviceId, value: logsCodec.encode(r) };
        }),
      );
    }
    const t0 = performance.now();
    await produce(producer, topics.telemetry, telemetry, historyEvents, undefined, 'history', (i) =>
      Math.floor(historyStart + Math.floor(i / series) * stepMs),
    );
    const flatRate =
      historyEvents / (((await waitCaughtUp(kafka, env.INGEST_GROUP_ID, topics.telemetry)) - t0) / 1000);
    const rate = args.rate === 'half' ? Math.round(flatRate / 2) : Number(args.rate);
    progressLog.info({ flatRate: Math.round(flatRate), rate }, 'backfill done');

    // 2. Idle: ingest alone at the rate.
    await produce(producer, topics.telemetry, telemetry, rate * SECONDS, rate, 'idle');
    await waitCaughtUp(kafka, env.INGEST_GROUP_ID, topics.telemetry);

    // 3. Loaded: the same rate, with the clients running throughout.
    const login = await fetch(`${platform.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const clients = runClients(platform.url, accessToken, stopped);
    await produce(producer, topics.telemetry, telemetry, rate * SECONDS, rate, 'loaded');
    stop();
    const load = await clients;
    await waitCaughtUp(kafka, env.INGEST_GROUP_ID, topics.telemetry);
    await producer.disconnect();
    await platform.stop();

    const store = ClickHouseStore.open(
      loadConfig([clickHouseConfigSection], { env: { ...process.env, ...env } }).clickhouse,
      logger,
    );
    const metrics = new MetricsRepository(store);
    const idle = await metrics.ingestLatency(0, 'idle');
    const loaded = await metrics.ingestLatency(0, 'loaded');
    await store.close();

    const all = load.times.flat().sort((a, b) => a - b);
    const requests = all.length;
    console.log(
      `\n${DEVICES} devices x ${METRICS.length} metrics, ${historyEvents.toLocaleString()} samples of history; ` +
        `${CLIENTS} clients on ${HOT} devices, think ${THINK_MS} ms; ingest at ${rate}/s ` +
        `(${args.rate === 'half' ? 'half of ' : ''}flat out ${Math.round(flatRate)}/s) for ${SECONDS} s`,
    );
    console.log(
      `\nclients: ${requests} requests in ${load.seconds.toFixed(1)} s = ${(requests / load.seconds).toFixed(1)} req/s, ${load.errors} errors`,
    );
    const header = ['query', 'requests', 'p50 ms', 'p99 ms', 'max ms'];
    const rows = QUERIES.map((q, i) => {
      const t = load.times[i]!.sort((a, b) => a - b);
      return [q.name, String(t.length), ms(t, 50), ms(t, 99), ms(t, 100)];
    });
    rows.push(['all', String(requests), ms(all, 50), ms(all, 99), ms(all, 100)]);
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    for (const row of [header, ...rows]) {
      console.log(
        row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
      );
    }
    console.log(
      `\ningest produce -> queryable (ms):  without clients p50 ${idle.p50} / p99 ${idle.p99} (${idle.rows} rows)` +
        `;  with clients p50 ${loaded.p50} / p99 ${loaded.p99} (${loaded.rows} rows)`,
    );
    // With --clients 0 (a control: how much the ingest latency moves between two phases by itself) there is none.
    const worstP99 = requests === 0 ? '-' : Math.max(...rows.slice(0, -1).map((r) => Number(r[3]) || 0));
    console.log(
      `\ngoals (issue 14, concurrent load):\n` +
        `  clients p99, worst query       = ${worstP99} ms (<= 1000)\n` +
        `  ingest p99 with / without      = ${(loaded.p99 / idle.p99).toFixed(2)} (<= 1.2)\n` +
        `  ingest p50 with / without      = ${(loaded.p50 / idle.p50).toFixed(2)}`,
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
    await platform.stop();
    if (!args.keep) rmSync(chPath, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    logger.fatal({ err: error }, 'benchmark failed');
    console.error(error);
    process.exit(1);
  },
);
