/**
 * End-to-end benchmark of the backbone on this machine: events/s and produce-to-queryable latency through
 * producer -> Kafka -> ingest (its own process) -> ClickHouse, at fixed offered rates and flat out, beside
 * the broker's own limit (Kafka's ProducerPerformance, same record size) and a direct ClickHouse insert of
 * the same rows. Prints figures and the per-stage CPU cost per event; asserts nothing.
 *
 *   npm run bench:backbone -- [--events 2000000] [--rates half,50000] [--seconds 20] [--profile]
 *
 * Flat out runs first; `half` is half of the end-to-end rate it reached, the latency goal's load. The ratios
 * the goals are stated in (end to end / broker, ingest CPU / decode CPU) are printed last. `--profile`
 * records a CPU profile of the ingest process's main thread during the flat-out phase and prints where its
 * time goes (the embedded engine's own threads are the rest of the process CPU).
 *
 * Needs Kafka and a schema registry (KAFKA_BROKERS, SCHEMA_REGISTRY_URL; `bin/sentio up --no-simulator`
 * or tools/kafka/kafka.sh start + tools/schema-registry/apicurio.sh start).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ClickHouseStore, clickHouseConfigSection, MetricsRepository } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type { TelemetrySample } from '@sentio/events';
import { ensureTopics, EventProducer } from '@sentio/kafka';
import { progressReporter } from '@sentio/observability';
import {
  BENCH_METRICS as METRICS,
  benchBackbone,
  benchDeviceId,
  benchLoggers,
  cpuMicros,
  waitCaughtUp,
} from './bench-setup.util.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { logger, progressLog } = benchLoggers();

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '2000000' },
    rates: { type: 'string', default: 'half' },
    seconds: { type: 'string', default: '20' },
    devices: { type: 'string', default: '10000' },
    profile: { type: 'boolean', default: false },
  },
});
const FLAT_OUT_EVENTS = Number(args.events);
const RATES = args.rates.split(',');
const SECONDS = Number(args.seconds);
const DEVICES = Number(args.devices);

function sample(i: number, now: number, source: string): TelemetrySample {
  return {
    eventId: `${source}-${i}`,
    deviceId: benchDeviceId(i % DEVICES),
    timestampMs: now,
    metric: METRICS[Math.floor(i / DEVICES) % METRICS.length]!,
    value: 20 + (i % 1000) / 100,
    unit: 'u',
    quality: 'GOOD',
    labels: { site: 'bench', line: `l${i % 8}` },
    source,
  };
}

async function ingestCpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('sentio_process_process_cpu_seconds_total'));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

function startIngest(env: Record<string, string>, port: number, profileDir?: string) {
  const child = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      '--import',
      '@swc-node/register/esm-register',
      resolve(root, 'tools/cli/src/main.ts'),
      'run',
      'ingest',
    ],
    {
      cwd: root,
      env: { ...process.env, ...env, SENTIO_HTTP_PORT: String(port), SENTIO_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    async ready() {
      for (;;) {
        try {
          if ((await fetch(`${url}/health`)).ok) return;
        } catch {
          // starting
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

async function main(): Promise<void> {
  const backbone = await benchBackbone('bench', logger, { KAFKA_PRODUCER_BATCH_SIZE: '10000' });
  const { id, namespace, kafka, topics } = backbone;
  const config = { kafka: backbone.kafkaConfig };
  const codec = await backbone.telemetryCodec();
  const recordSize = codec.encode(sample(0, Date.now(), 'x')).length;
  const chPath = mkdtempSync(join(tmpdir(), 'sentio-bench-'));
  const baseEnv = {
    SENTIO_NAMESPACE: namespace,
    SENTIO_CLICKHOUSE_PATH: chPath,
    CLICKHOUSE_DATABASE: `bench_${id}`,
    INGEST_GROUP_ID: `bench-ingest-${id}`,
  };
  console.log(
    `machine: ${process.arch}, node ${process.version}, ${(await import('node:os')).cpus().length} cores; record ${recordSize} bytes; ${DEVICES} devices x ${METRICS.length} metrics`,
  );

  // 1. The broker's own limit, with the same record size.
  const perfTopic = `${namespace}.perf`;
  await ensureTopics(
    kafka,
    [
      {
        name: perfTopic,
        partitions: config.kafka.partitions,
        replicationFactor: 1,
        cleanupPolicy: 'delete',
        retentionMs: 3600_000,
      },
    ],
    logger,
  );
  const perf = spawnSync(
    resolve(root, 'tools/kafka/kafka.sh'),
    [
      'perf-producer',
      '--topic',
      perfTopic,
      '--num-records',
      '2000000',
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${config.kafka.brokers.join(',')}`,
      'acks=all',
      'linger.ms=5',
      'batch.size=262144',
      'compression.type=none',
    ],
    { encoding: 'utf8' },
  );
  const perfLine =
    perf.stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('records/sec'))
      .pop() ?? perf.stderr;
  const brokerRate = Number(/([\d.]+) records\/sec/.exec(perfLine)?.[1] ?? Number.NaN);
  console.log(`\n[broker] kafka ProducerPerformance, acks=all: ${perfLine}`);

  // 2. Decode cost, in this process: the same codec the sink uses.
  const encoded = Array.from({ length: 200_000 }, (_, i) => codec.encode(sample(i, Date.now(), 'decode')));
  await codec.prepare(encoded.slice(0, 1));
  let cpu = cpuMicros();
  for (const buffer of encoded) codec.decode(buffer);
  const decodeUs = (cpuMicros() - cpu) / encoded.length;
  cpu = cpuMicros();
  for (let i = 0; i < encoded.length; i++) codec.encode(sample(i, 0, 'encode'));
  const encodeUs = (cpuMicros() - cpu) / encoded.length;
  console.log(
    `[decode] ${decodeUs.toFixed(2)} us/event CPU (Avro decode + schema resolution); encode ${encodeUs.toFixed(2)} us/event`,
  );

  // 3. End to end at fixed offered rates, latency-oriented flush, then flat out with a throughput flush.
  const producer = new EventProducer(kafka, config.kafka.producer, logger);
  await producer.connect();
  // Flat out first: the fixed-rate phases may be stated as a share of its end-to-end rate.
  const phases: Array<{ name: string; rate: string | undefined; flushMs: string }> = [
    { name: 'flat out', rate: undefined, flushMs: '500' },
    ...RATES.map((rate) => ({
      name: rate === 'half' ? 'half of flat out' : `offered ${rate}/s`,
      rate,
      flushMs: '100',
    })),
  ];
  const results: Array<{
    name: string;
    events: number;
    produceS: number;
    e2eS: number;
    produceUs: number;
    ingestUs: number;
    source: string;
  }> = [];
  const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'sentio-bench-profile-')) : undefined;
  let port = 18_300;
  for (const phase of phases) {
    const source = `phase-${results.length}`;
    const flatRate = results[0] ? results[0].events / results[0].e2eS : 0;
    const rate =
      phase.rate === undefined
        ? undefined
        : phase.rate === 'half'
          ? Math.round(flatRate / 2)
          : Number(phase.rate);
    const events = rate ? rate * SECONDS : FLAT_OUT_EVENTS;
    if (phase.rate === 'half') phase.name = `half: ${rate}/s`;
    const ingest = startIngest(
      { ...baseEnv, INGEST_FLUSH_INTERVAL_MS: phase.flushMs, INGEST_MAX_BATCH_RECORDS: '100000' },
      port++,
      rate === undefined ? profileDir : undefined,
    );
    await ingest.ready();
    await waitCaughtUp(kafka, baseEnv.INGEST_GROUP_ID, topics.telemetry);
    const ingestCpu0 = await ingestCpuSeconds(ingest.url);
    const progress = progressReporter(progressLog, `bench ${phase.name}`, events);
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    const chunk = rate ? Math.max(1, Math.round(rate / 100)) : 5000;
    const pending: Promise<void>[] = [];
    for (let sent = 0; sent < events;) {
      const n = Math.min(chunk, events - sent);
      const now = Date.now();
      const messages = new Array(n);
      for (let k = 0; k < n; k++) {
        const s = sample(sent + k, now, source);
        messages[k] = { key: s.deviceId, value: codec.encode(s) };
      }
      pending.push(producer.send(topics.telemetry, messages));
      sent += n;
      progress.advance(n);
      if (pending.length >= 40) await pending.shift();
      if (rate) {
        const due = t0 + (sent / rate) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    await Promise.all(pending);
    const produceS = (performance.now() - t0) / 1000;
    const produceUs = (cpuMicros() - cpu0) / events;
    const done = await waitCaughtUp(kafka, baseEnv.INGEST_GROUP_ID, topics.telemetry);
    progress.done();
    const ingestUs = (((await ingestCpuSeconds(ingest.url)) - ingestCpu0) * 1e6) / events;
    await ingest.stop();
    results.push({
      name: phase.name,
      events: events,
      produceS,
      e2eS: (done - t0) / 1000,
      produceUs,
      ingestUs,
      source,
    });
  }
  await producer.disconnect();

  // 4. Latencies from the rows themselves (ingested_at - event time), and a direct insert of the same rows.
  const store = ClickHouseStore.open(
    loadConfig([clickHouseConfigSection], { env: baseEnv }).clickhouse,
    logger,
  );
  const metrics = new MetricsRepository(store);
  console.log(
    '\nphase                 events   produced/s   end-to-end/s   p50 ms   p99 ms   max ms   produce us/ev   ingest us/ev',
  );
  const flat = { rate: 0, ingestUs: 0 };
  const half = { p50: Number.NaN, p99: Number.NaN };
  for (const r of results) {
    const lat = await metrics.ingestLatency(0, r.source);
    const e2eRate = r.events / r.e2eS;
    if (r.name === 'flat out') Object.assign(flat, { rate: e2eRate, ingestUs: r.ingestUs });
    if (r.name.startsWith('half')) Object.assign(half, { p50: lat.p50, p99: lat.p99 });
    console.log(
      `${r.name.padEnd(20)} ${String(r.events).padStart(8)} ${Math.round(r.events / r.produceS)
        .toString()
        .padStart(
          12,
        )} ${Math.round(e2eRate).toString().padStart(14)} ${String(lat.p50).padStart(8)} ${String(lat.p99).padStart(8)} ${String(lat.max).padStart(8)} ${r.produceUs.toFixed(1).padStart(15)} ${r.ingestUs.toFixed(1).padStart(14)}` +
        (lat.rows !== r.events ? `   (rows ${lat.rows}!)` : ''),
    );
  }
  const rows = Array.from({ length: 500_000 }, (_, i) => sample(i, Date.now(), 'direct'));
  cpu = cpuMicros();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += 100_000)
    await metrics.insert(rows.slice(i, i + 100_000), `direct-${i}`);
  const directRate = rows.length / ((performance.now() - t0) / 1000);
  const insertUs = (cpuMicros() - cpu) / rows.length;
  const rollup = await closedBucketRollup(store, rows.length);
  await store.close();
  console.log(
    `\n[clickhouse] direct insert of the same rows (RowBinary, 100k per block, rollup views on): ${Math.round(directRate)} rows/s, ${insertUs.toFixed(2)} us/row CPU`,
  );
  console.log(
    `[rollups] the same rows inside the engine: copied into a table without views ${rollup.plainUs.toFixed(2)} us/row; ` +
      `aggregated once per series and minute into the 1-minute rollup ${rollup.minuteUs.toFixed(2)} us/row ` +
      `(${rollup.minuteNoDigestUs.toFixed(2)} without its t-digest states) ` +
      `(views: the 1-minute and 1-hour rollups per insert block, ${rollup.blockUs.toFixed(2)} us/row in 25k-row blocks)`,
  );
  console.log(
    `\nratios (goals in parentheses):\n` +
      `  end-to-end flat out / broker ProducerPerformance = ${(flat.rate / brokerRate).toFixed(3)} (>= 0.2)\n` +
      `  ingest CPU per event / Avro decode per event    = ${(flat.ingestUs / decodeUs).toFixed(1)} (<= 5)\n` +
      `  end-to-end flat out / direct insert             = ${(flat.rate / directRate).toFixed(2)}\n` +
      `  produce -> queryable at half of flat out: p50 ${half.p50} ms (<= 250), p99 ${half.p99} ms (<= 500)`,
  );
  if (profileDir) printProfile(profileDir, flat.ingestUs);
}

/**
 * What rollups cost per raw row inside the engine, on the direct insert's rows (one minute, 10,000 devices x
 * 10 metrics): the raw rows copied into a table without views (the insert alone), aggregated once per series
 * and minute into the 1-minute rollup (a scheduler rolling up closed buckets), and aggregated per 25k-row
 * insert block into both rollups (what the views do on the ingest path). Scratch tables, dropped after.
 */
async function closedBucketRollup(
  store: ClickHouseStore,
  count: number,
): Promise<{ plainUs: number; minuteUs: number; minuteNoDigestUs: number; blockUs: number }> {
  const raw = store.table('metrics');
  const db = store.database;
  const select = (table: string, from: string, digest = true) =>
    `INSERT INTO ${db}.${table} SELECT device_id, metric, ${table.endsWith('1h') ? 'toStartOfHour' : 'toStartOfMinute'}(ts) AS bucket,
            minState(assumeNotNull(value)), maxState(assumeNotNull(value)), sumState(assumeNotNull(value)),
            countState(assumeNotNull(value))${digest ? ', quantileTDigestState(assumeNotNull(value))' : ''}
     FROM ${from} WHERE value IS NOT NULL AND quality != 'BAD' GROUP BY device_id, metric, bucket`;
  const timed = async (statements: string[]) => {
    const before = cpuMicros();
    for (const statement of statements) await store.command(statement);
    return (cpuMicros() - before) / count;
  };
  await store.command(`CREATE TABLE ${db}.bench_plain AS ${raw}`);
  await store.command(`CREATE TABLE ${db}.bench_1m AS ${store.table('metrics_1m')}`);
  await store.command(`CREATE TABLE ${db}.bench_1h AS ${store.table('metrics_1h')}`);
  // The same rollup without its t-digest column: what the quantile states cost.
  await store.command(
    `CREATE TABLE ${db}.bench_1m_nq (device_id LowCardinality(String), metric LowCardinality(String),
       ts DateTime('UTC'), min_value AggregateFunction(min, Float64), max_value AggregateFunction(max, Float64),
       sum_value AggregateFunction(sum, Float64), count AggregateFunction(count, Float64))
     ENGINE = AggregatingMergeTree ORDER BY (device_id, metric, ts)`,
  );
  // Process CPU includes the engine's background merges: none may run while the statements are timed.
  await store.command('SYSTEM STOP MERGES');
  try {
    const plainUs = await timed([
      `INSERT INTO ${db}.bench_plain SELECT * FROM ${raw} WHERE source = 'direct'`,
    ]);
    const minuteUs = await timed([select('bench_1m', `${db}.bench_plain`)]);
    const minuteNoDigestUs = await timed([select('bench_1m_nq', `${db}.bench_plain`, false)]);
    const blocks: string[] = [];
    for (let i = 0; i < count; i += 25_000) {
      const block = `(SELECT * FROM ${db}.bench_plain WHERE toUInt32(substring(event_id, 8)) BETWEEN ${i} AND ${i + 24_999})`;
      blocks.push(select('bench_1m', block), select('bench_1h', block));
    }
    // The block runs read their slice of the scratch table too: that read is measured apart and taken off.
    const readUs = await timed(
      Array.from(
        { length: Math.ceil(count / 25_000) },
        (_, b) =>
          `SELECT count() FROM ${db}.bench_plain WHERE toUInt32(substring(event_id, 8)) BETWEEN ${b * 25_000} AND ${b * 25_000 + 24_999}`,
      ),
    );
    const blockUs = (await timed(blocks)) - 2 * readUs;
    return { plainUs, minuteUs, minuteNoDigestUs, blockUs };
  } finally {
    await store.command('SYSTEM START MERGES');
    for (const t of ['bench_plain', 'bench_1m', 'bench_1h', 'bench_1m_nq'])
      await store.command(`DROP TABLE IF EXISTS ${db}.${t}`);
  }
}

/** Where the ingest process's main thread spent its samples, by library, per event of the flat-out phase. */
function printProfile(dir: string, ingestUs: number): void {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return console.log(`\n[profile] no profile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  // Loading and compiling the TypeScript modules happens once, at start: not part of the per-event cost.
  const startup = /esm\/hooks|esm\/utils|esm\/translators|esm\/module_job|cjs\/loader|swc-node/;
  const groups: Array<[string, RegExp]> = [
    ['kafkajs (fetch, record batches, Long offsets)', /node_modules\/(kafkajs|long)/],
    ['avro decode (avsc)', /node_modules\/avsc|avro-serde/],
    ['clickhouse client / chdb binding', /@clickhouse|node_modules\/chdb/],
    ['sink, validation, RowBinary encoding', /libs\/(ingest|clickhouse)\//],
    ['other sentio code', /libs\/|tools\//],
    ['node: buffers, streams, sockets, files', /^node:|^internal/],
  ];
  const totals = new Map<string, number>();
  const functions = new Map<string, number>();
  let all = 0;
  let atStart = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    if (startup.test(frame.url)) {
      atStart += dt;
      return;
    }
    all += dt;
    const group = frame.functionName.startsWith('(')
      ? frame.functionName
      : (groups.find(([, re]) => re.test(frame.url))?.[0] ??
        'native (string and buffer built-ins, GC roots)');
    totals.set(group, (totals.get(group) ?? 0) + dt);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}`;
    functions.set(name, (functions.get(name) ?? 0) + dt);
  });
  console.log(
    `\n[profile] ingest main thread, flat out: busy ${(all / 1e6).toFixed(1)} s after ${(atStart / 1e6).toFixed(1)} s of module loading (${dir}/${file})`,
  );
  for (const [group, us] of [...totals].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${group.padEnd(48)} ${((100 * us) / all).toFixed(1).padStart(5)} %`);
  }
  console.log('  top functions (self time):');
  for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    console.log(`    ${((100 * us) / all).toFixed(1).padStart(5)} %  ${name}`);
  }
  console.log(
    `  (process CPU per event ${ingestUs.toFixed(1)} us: main thread plus the embedded engine's threads)`,
  );
}

await main();
process.exit(0);
