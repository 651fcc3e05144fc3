/**
 * Replay benchmark: `npm run bench:replay -- --events 10000000 --live-rate 5000 [--sample-interval-ms 1000]`.
 *
 * One process with live ingest and the replay module on an embedded ClickHouse (the all-in-one layout):
 * 1. produces `--events` telemetry samples of history and lets live ingest project them (the live ingest
 *    rate on this machine, the yardstick),
 * 2. starts a live producer at `--live-rate` events/s and measures live ingest latency for `--baseline-s`,
 * 3. rebuilds the metrics family into version 2 (with its 5-minute rollup) while the live producer goes on,
 *    and swaps it in: replay events/s, time to catch up and swap, and live ingest latency during the replay.
 * Prints figures; asserts nothing.
 *
 * The history's shape: every series (device x metric) reports once per `--sample-interval-ms` of event time,
 * the fleet's series spread evenly over the interval, as the simulator's devices do (`sentio simulate
 * --interval-ms`, default 1000: many samples per series and minute). `--sample-interval-ms 0` spreads the
 * history over 23 hours instead, one sample per series and rollup bucket (the shape of earlier runs).
 */
import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClickHouseModule, ClickHouseStore, clickHouseConfigSection, pinned } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type { TelemetrySample } from '@sentio/events';
import { IngestModule, ingestConfigSection } from '@sentio/ingest';
import { consumerLag, EventProducer } from '@sentio/kafka';
import { ReplayModule, ReplayService, replayConfigSection } from '@sentio/replay';
import {
  BENCH_METRICS,
  benchBackbone,
  benchDeviceId,
  benchLoggers,
  benchPlatformModules,
  waitCaughtUp,
} from './bench-setup.util.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    'live-rate': { type: 'string', default: '5000' },
    devices: { type: 'string', default: '10000' },
    'baseline-s': { type: 'string', default: '10' },
    'sample-interval-ms': { type: 'string', default: '1000' },
  },
});
const EVENTS = Number(values.events);
const LIVE_RATE = Number(values['live-rate']);
const DEVICES = Number(values.devices);
const BASELINE_S = Number(values['baseline-s']);
const SAMPLE_INTERVAL_MS = Number(values['sample-interval-ms']);
const SERIES = DEVICES * BENCH_METRICS.length;

const { logger, progressLog } = benchLoggers();
const backbone = await benchBackbone('bench-replay', logger);
const codec = await backbone.telemetryCodec();
const producer = new EventProducer(
  backbone.kafka,
  { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
  logger,
);
await producer.connect();

function sample(i: number, ts: number, source: string): TelemetrySample {
  return {
    eventId: `${source}-${i}`,
    deviceId: benchDeviceId(i % DEVICES),
    timestampMs: ts,
    metric: BENCH_METRICS[Math.floor(i / DEVICES) % BENCH_METRICS.length]!,
    value: 20 + Math.sin(i / 1000) * 5,
    unit: null,
    quality: 'GOOD',
    labels: {},
    source,
  };
}

// 1. History, from a day ago in event time: sample i is series i % SERIES (sample() above), its
// floor(i / SERIES)-th report.
const historyStart = Date.now() - 24 * 3_600_000;
function historyTs(i: number): number {
  if (SAMPLE_INTERVAL_MS === 0) return historyStart + Math.floor((i / EVENTS) * 23 * 3_600_000);
  const slot = Math.floor(((i % SERIES) / SERIES) * SAMPLE_INTERVAL_MS);
  return historyStart + Math.floor(i / SERIES) * SAMPLE_INTERVAL_MS + slot;
}
const produceStarted = performance.now();
for (let i = 0; i < EVENTS; i += 50_000) {
  const n = Math.min(50_000, EVENTS - i);
  await producer.send(
    backbone.topics.telemetry,
    Array.from({ length: n }, (_, k) => {
      const s = sample(i + k, historyTs(i + k), 'bench-history');
      return { key: s.deviceId, value: codec.encode(s) };
    }),
  );
  if ((i / 50_000) % 20 === 0) progressLog.info({ produced: i + n, of: EVENTS }, 'producing history');
}
const produceSeconds = (performance.now() - produceStarted) / 1000;

const env = {
  ...process.env,
  SENTIO_NAMESPACE: backbone.namespace,
  SENTIO_CLICKHOUSE_PATH: mkdtempSync(join(tmpdir(), 'sentio-bench-replay-')),
  CLICKHOUSE_DATABASE: `bench_replay_${backbone.id}`,
  INGEST_GROUP_ID: `bench-replay-ingest-${backbone.id}`,
};
const config = loadConfig([clickHouseConfigSection, ingestConfigSection, replayConfigSection], { env });
@Module({})
class BenchModule {}
const root: DynamicModule = {
  module: BenchModule,
  imports: [
    ...benchPlatformModules(backbone.kafkaConfig, backbone.registryUrl, logger),
    ClickHouseModule.forRoot(config.clickhouse, logger),
    IngestModule.forRoot(config.ingest),
    ReplayModule.forRoot(config.replay, config.ingest.groupId),
  ],
};
const ingestStarted = performance.now();
const app = await NestFactory.createApplicationContext(root, { logger: false });
const store = app.get(ClickHouseStore, { strict: false });
const ingestProgress = setInterval(() => {
  consumerLag(backbone.kafka, config.ingest.groupId, backbone.topics.telemetry)
    .then((lag) => progressLog.info({ ingested: EVENTS - lag, of: EVENTS }, 'live ingest of the history'))
    .catch(() => undefined);
}, 10_000);
await waitCaughtUp(backbone.kafka, config.ingest.groupId, backbone.topics.telemetry, 200);
clearInterval(ingestProgress);
const ingestSeconds = (performance.now() - ingestStarted) / 1000;
const ingestLoad = loadavg()[0]!;
progressLog.info({ ingestSeconds, load: ingestLoad }, 'history ingested');

// 2. Live traffic at a fixed rate, stamped with the send time.
let live = 0;
let liveRunning = true;
const liveLoop = (async () => {
  const started = performance.now();
  while (liveRunning) {
    const due = Math.floor(((performance.now() - started) / 1000) * LIVE_RATE);
    if (due > live) {
      const now = Date.now();
      const batch = Array.from({ length: due - live }, (_, k) => {
        const s = sample(live + k, now, 'bench-live');
        return { key: s.deviceId, value: codec.encode(s) };
      });
      live = due;
      await producer.send(backbone.topics.telemetry, batch);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
})();

async function liveLatency(fromMs: number, toMs: number, version: number) {
  const [row] = await store.query<{ rows: string; p50: number; p99: number }>(
    `SELECT count() AS rows, quantileExact(0.5)(lag) AS p50, quantileExact(0.99)(lag) AS p99
     FROM (SELECT toUnixTimestamp64Milli(ingested_at) - toUnixTimestamp64Milli(ts) AS lag
           FROM ${store.table(pinned('metrics', version))}
           WHERE source = 'bench-live' AND ts >= fromUnixTimestamp64Milli({fromMs:Int64})
             AND ts < fromUnixTimestamp64Milli({toMs:Int64}))`,
    { fromMs, toMs },
  );
  return { rows: Number(row?.rows ?? 0), p50: Number(row?.p50 ?? 0), p99: Number(row?.p99 ?? 0) };
}

const baselineFrom = Date.now();
await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
const baselineTo = Date.now();

// 3. Rebuild metrics into version 2 while live traffic goes on, and swap it in.
const replay = app.get(ReplayService, { strict: false });
const replayStarted = performance.now();
const replayFrom = Date.now();
const run = await replay.startProjection({ family: 'metrics' });
const replayProgress = setInterval(() => {
  const p = replay.get(run.id);
  if (p) progressLog.info(p, 'replay');
}, 10_000);
const finished = await replay.wait(run.id);
clearInterval(replayProgress);
const replaySeconds = (performance.now() - replayStarted) / 1000;
const replayLoad = loadavg()[0]!;
const swapAt = Date.now();
liveRunning = false;
await liveLoop;
await waitCaughtUp(backbone.kafka, config.ingest.groupId, backbone.topics.telemetry, 200);
const before = await liveLatency(baselineFrom, baselineTo, 1);
const during = await liveLatency(replayFrom, swapAt, 1);
const [counts] = await store.query<{ v1: string; v2: string }>(
  `SELECT (SELECT count() FROM ${store.table(pinned('metrics', 1))}) AS v1,
          (SELECT count() FROM ${store.table(pinned('metrics', 2))}) AS v2`,
);
await app.close();
await producer.disconnect();

const f = (n: number) => Math.round(n).toLocaleString('en-US');
const ingestRate = EVENTS / ingestSeconds;
const replayRate = finished.records / replaySeconds;
process.stdout.write(
  [
    `replay benchmark: ${f(EVENTS)} history events, ${f(DEVICES)} devices x ${BENCH_METRICS.length} metrics, ` +
      `live traffic ${f(LIVE_RATE)} events/s (${f(live)} sent), ended ${new Date().toISOString()}`,
    SAMPLE_INTERVAL_MS === 0
      ? `  history shape                   spread over 23 h: one sample per series every ` +
        `${((23 * 60 * SERIES) / EVENTS).toFixed(1)} min of event time`
      : `  history shape                   one sample per series every ${f(SAMPLE_INTERVAL_MS)} ms ` +
        `(${(60_000 / SAMPLE_INTERVAL_MS).toFixed(1)} per series and minute, ${f(((EVENTS / SERIES) * SAMPLE_INTERVAL_MS) / 1000)} s of event time)`,
    `  load average (1 min)            ${ingestLoad.toFixed(1)} after the yardstick, ${replayLoad.toFixed(1)} after the replay`,
    `  produce history                 ${f(EVENTS / produceSeconds)} events/s`,
    `  live ingest of the history      ${f(ingestRate)} events/s (${ingestSeconds.toFixed(1)} s): the yardstick`,
    `  replay into version 2           ${f(replayRate)} events/s (${f(finished.records)} records), ` +
      `${(replayRate / ingestRate).toFixed(2)}x live ingest flat out`,
    `  catch up and swap               ${replaySeconds.toFixed(1)} s (state ${finished.state}, swapped ${finished.swapped}): ` +
      `caught up after ${finished.catchUpSeconds ?? '?'} s, live writes held ${finished.swapSeconds ?? '?'} s for the swap`,
    finished.bulkBuildSeconds === null
      ? `  history in bulk                 no (every block through the rollup views)`
      : `  history in bulk                 loaded into staging after ${finished.bulkLoadSeconds} s ` +
        `(rollups built beside it: ${finished.bulkOverlappedSeconds ?? 0} s), rest built and moved in ${finished.bulkBuildSeconds} s`,
    `  live ingest latency before      p50 ${f(before.p50)} ms, p99 ${f(before.p99)} ms (${f(before.rows)} rows)`,
    `  live ingest latency during      p50 ${f(during.p50)} ms, p99 ${f(during.p99)} ms (${f(during.rows)} rows)`,
    `  rows after the swap             version 1 ${f(Number(counts!.v1))}, version 2 ${f(Number(counts!.v2))}`,
    '',
  ].join('\n'),
);
process.exit(0);
