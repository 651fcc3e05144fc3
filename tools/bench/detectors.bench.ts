/**
 * Benchmark of the detectors on this machine; prints figures, asserts nothing.
 *
 * 1. Scoring: windows scored per second on one core by the production path (WindowAutoencoder.scoreWindows,
 *    a plain-JS forward pass) and by a TF.js predict of the same network on the default backend, at several
 *    batch sizes.
 * 2. Lag: `--devices` devices x 10 metrics at 1 Hz, fast-forwarded into Kafka (`--seconds` of event time sent
 *    as fast as the producer goes) while `sentio run detectors` consumes them with a trained model per
 *    device. Reports how far behind the consumer runs and whether it keeps up with real time.
 *
 * 3. The statistical members: rows per second through the robust group model's row-by-row scorer (10
 *    metrics, the 30-row mean kept incrementally) and through the univariate detector (one metric), and how
 *    long fitting a group model on 400 rows takes.
 *
 *   node --import @swc-node/register/esm-register tools/bench/detectors.bench.ts -- [--devices 10000] [--seconds 30]
 *     [--scoring-only] [--profile <dir>]
 *
 * The lag run has the whole ensemble working: stored autoencoders, and group models fitted during the
 * warm-up (cold start after 10 rows, final fit at 20). `--profile` writes the detector process's V8 CPU
 * profile (`node --cpu-prof`) into the folder when it exits.
 *
 * Needs Kafka and a schema registry (KAFKA_BROKERS, SCHEMA_REGISTRY_URL) unless --scoring-only.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@sentio/config';
import {
  DeviceStream,
  detectorsConfigSection,
  initTfBackend,
  ModelStore,
  RobustGroupModel,
  trainDeviceModel,
  UnivariateDetector,
  univariateOptionsFor,
  WindowAutoencoder,
} from '@sentio/detectors';
import type { TelemetrySample } from '@sentio/events';
import { consumerLag, EventProducer } from '@sentio/kafka';
import * as tf from '@tensorflow/tfjs';
import {
  benchBackbone,
  benchDeviceId as deviceId,
  benchLoggers,
  processCpuSeconds as childCpu,
  waitCaughtUp,
} from './bench-setup.util.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { logger } = benchLoggers();

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '30' },
    'scoring-only': { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const DEVICES = Number(args.devices);
const SECONDS = Number(args.seconds);
const METRICS = Array.from({ length: 10 }, (_, m) => `m${m}`);
// Event time starts on a whole minute an hour ago; it runs ahead of the wall clock from there.
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const print = (line: string) => process.stdout.write(`${line}\n`);

/** A smooth per-device signal with noise: normal behaviour, so scoring does its usual work. */
function value(device: number, metric: number, t: number): number {
  return 50 + 10 * Math.sin(t / 60_000 + device + metric) + Math.sin(device * 7919 + t) * 0.5;
}

async function scoring(): Promise<void> {
  const rows = Array.from({ length: 600 }, (_, i) => METRICS.map((_, m) => value(1, m, i * 1000)));
  const config = loadConfig([detectorsConfigSection], {
    env: { DETECTORS_METRICS: METRICS.join(',') },
  }).detectors;
  const stream = new DeviceStream(config);
  const streamRows = rows.flatMap(
    (r, i) => stream.push({ deviceId: 'b', startMs: i * 1000, endMs: i * 1000 + 1000, rows: [r] }).added,
  );
  const model = await trainDeviceModel('bench', streamRows, { ...config, epochs: 5 });
  const windows = Array.from({ length: 1000 }, (_, i) =>
    streamRows.slice(i % 580, (i % 580) + 10).map((r) => r.residual),
  );
  const width = 10 * METRICS.length;
  const reference = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [width], units: 32, activation: 'relu' }),
      tf.layers.dense({ units: 8 }),
      tf.layers.dense({ units: 32, activation: 'relu' }),
      tf.layers.dense({ units: width }),
    ],
  });
  const rate = (batch: number, score: (n: number) => void) => {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 1500) {
      score(batch);
      n += batch;
    }
    return n / ((performance.now() - start) / 1000);
  };
  print(`\nscoring, ${METRICS.length} metrics x window 10, one core (${tf.getBackend()} backend for TF.js):`);
  print('batch  sentio (JS forward)  TF.js predict');
  for (const batch of [1, 10, 100, 1000]) {
    // One window is the online path (scoreWindow: shared buffers, no batch allocations).
    const js = rate(batch, (n) =>
      n === 1 ? model.scoreWindow(windows[0]!) : model.scoreWindows(windows.slice(0, n)),
    );
    const input = tf.tensor2d(windows.slice(0, batch).flat(2), [batch, width]);
    const viaTf = rate(batch, () => tf.tidy(() => (reference.predict(input) as tf.Tensor).dataSync()));
    input.dispose();
    print(`${String(batch).padEnd(5)}  ${fmt(js).padStart(13)} win/s  ${fmt(viaTf).padStart(9)} win/s`);
  }
  // Every device gets the same model: the consumer's work per window does not depend on the weights.
  modelTemplate = model;

  const raw = Array.from({ length: 4000 }, (_, i) => METRICS.map((_, m) => value(2, m, i * 1000)));
  const start = performance.now();
  let fits = 0;
  while (performance.now() - start < 1000) {
    RobustGroupModel.fit(METRICS, raw.slice(0, 400));
    fits++;
  }
  const fitMs = (performance.now() - start) / fits;
  const group = RobustGroupModel.fit(METRICS, raw.slice(0, 400));
  const rowRate = (push: (i: number) => void) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) for (let i = 0; i < 1000; i++, n++) push(n % raw.length);
    return n / ((performance.now() - t0) / 1000);
  };
  const scorer = group.scorer();
  const groupRate = rowRate((i) => scorer.push(raw[i]!));
  const univariate = new UnivariateDetector(univariateOptionsFor(400));
  const uniRate = rowRate((i) => univariate.push(raw[i]![0]!));
  print('\nstatistical members, one core:');
  print(
    `  robust group model (${METRICS.length} metrics): fit on 400 rows ${fitMs.toFixed(2)} ms; ` +
      `scoring ${fmt(groupRate)} rows/s (${fmt(groupRate * METRICS.length)} records/s)`,
  );
  print(`  univariate detector: ${fmt(uniRate)} values/s`);
}

let modelTemplate: WindowAutoencoder | undefined;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function lag(): Promise<void> {
  const backbone = await benchBackbone('bench-detectors', logger);
  const { namespace, topics, kafka } = backbone;
  const modelDir = mkdtempSync(join(tmpdir(), 'sentio-bench-detectors-'));
  const store = new ModelStore(modelDir);
  let start = performance.now();
  // One model saved, its files copied for the others: what loading costs does not depend on the weights.
  await store.save(deviceId(0), modelTemplate!);
  const template = join(modelDir, encodeURIComponent(deviceId(0)));
  for (let d = 1; d < DEVICES; d++)
    cpSync(template, join(modelDir, encodeURIComponent(deviceId(d))), { recursive: true });
  print(`\nlag: ${fmt(DEVICES)} devices x ${METRICS.length} metrics at 1 Hz, ${SECONDS} s of event time`);
  print(`  stored ${fmt(DEVICES)} device models in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  start = performance.now();
  const cpu = process.cpuUsage();
  const loaded = store.loadAllCurrent();
  const loadCpu = process.cpuUsage(cpu);
  const loadS = (performance.now() - start) / 1000;
  start = performance.now();
  const openCpu = process.cpuUsage();
  for (const m of loaded.values()) m.open().dispose();
  const openedCpu = process.cpuUsage(openCpu);
  const cpuS = (usage: NodeJS.CpuUsage) => ((usage.user + usage.system) / 1e6).toFixed(1);
  print(
    `  loaded ${fmt(loaded.size)} back (what a restart does) in ${loadS.toFixed(1)} s (${cpuS(loadCpu)} CPU s; ` +
      'the wall time grows when others use the cores); deserialising them all (each on its first record) ' +
      `took ${((performance.now() - start) / 1000).toFixed(1)} s more (${cpuS(openedCpu)} CPU s)`,
  );

  const codec = await backbone.telemetryCodec();
  const producer = new EventProducer(kafka, backbone.kafkaConfig.producer, logger);
  await producer.connect();
  const produce = async (fromS: number, toS: number) => {
    for (let s = fromS; s < toS; s++) {
      const t = T0 + s * 1000;
      const messages = [];
      for (let d = 0; d < DEVICES; d++) {
        const id = deviceId(d);
        for (let m = 0; m < METRICS.length; m++) {
          const sample: TelemetrySample = {
            eventId: `${s}-${d}-${m}`,
            deviceId: id,
            timestampMs: t,
            metric: METRICS[m]!,
            value: value(d, m, t),
            unit: 'u',
            quality: 'GOOD',
            labels: {},
            source: 'bench',
          };
          messages.push({ key: id, value: codec.encode(sample) });
        }
      }
      await producer.send(topics.telemetry, messages);
    }
  };

  const groupId = `detectors-${namespace}`;
  // Long enough for every device's group model to reach its final fit (20 rows) before the measurement.
  const warmupS = 22;
  await produce(0, warmupS);
  const child = spawn(
    process.execPath,
    [
      ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args.profile)}`] : []),
      '--import',
      '@swc-node/register/esm-register',
      resolve(root, 'tools/cli/src/main.ts'),
      'run',
      'detectors',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        SENTIO_NAMESPACE: namespace,
        SENTIO_HTTP_PORT: '0',
        SENTIO_LOG_LEVEL: 'warn',
        DETECTORS_GROUP_ID: groupId,
        DETECTORS_MODEL_DIR: modelDir,
        DETECTORS_METRICS: METRICS.join(','),
        DETECTORS_MODEL_CHECK_MS: '0',
        DETECTORS_COLD_START_ROWS: '10',
        DETECTORS_TRAIN_ROWS: '20',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  try {
    start = performance.now();
    await waitCaughtUp(kafka, groupId, topics.telemetry);
    print(
      `  warm-up (${warmupS} s of data, first sight of every device loads its model): ` +
        `${((performance.now() - start) / 1000).toFixed(1)} s`,
    );

    start = performance.now();
    const cpuBefore = await childCpu(child.pid!);
    await produce(warmupS, warmupS + SECONDS);
    const producedS = (performance.now() - start) / 1000;
    const behind = await consumerLag(kafka, groupId, topics.telemetry);
    await waitCaughtUp(kafka, groupId, topics.telemetry);
    const doneS = (performance.now() - start) / 1000;
    const cpuS = (await childCpu(child.pid!)) - cpuBefore;
    const records = DEVICES * METRICS.length * SECONDS;
    const consumed = records / doneS;
    print(`  produced ${fmt(records)} records in ${producedS.toFixed(1)} s (${fmt(records / producedS)}/s)`);
    print(
      `  when the producer finished, the consumer was ${fmt(behind)} records behind ` +
        `(${(behind / (DEVICES * METRICS.length)).toFixed(1)} s of event time)`,
    );
    print(
      `  consumer caught up ${doneS.toFixed(1)} s after the first record: ${fmt(consumed)} records/s, ` +
        `${(SECONDS / doneS).toFixed(2)} x real time, ${(cpuS / doneS).toFixed(2)} cores busy ` +
        `(${availableParallelism()} on this machine, shared with Kafka and the producer)`,
    );
    const perCpuS = records / cpuS;
    print(
      `  detector process: ${fmt(perCpuS)} records (${fmt((DEVICES * SECONDS) / cpuS)} windows) per CPU ` +
        `second, all work included; ${fmt(DEVICES)} devices x ${METRICS.length} metrics at 1 Hz need ` +
        `${((DEVICES * METRICS.length) / perCpuS).toFixed(2)} cores`,
    );
    const cores = (DEVICES * METRICS.length) / perCpuS;
    if (doneS - producedS < 0.2 * producedS)
      print('  (the consumer finished close behind the producer: here the producer set the pace, not it)');
    // One consumer process is one Node thread: a load needing more than one core cannot be met by it.
    print(
      cores < 1
        ? `  => keeps up: the 1 Hz load needs ${(cores * 100).toFixed(0)} % of the one core a detector process uses`
        : `  => does NOT keep up on one process: the 1 Hz load needs ${cores.toFixed(2)} cores; split devices ` +
            'across detector processes (partitions) to scale out',
    );
  } finally {
    child.kill('SIGTERM');
    // The CPU profile is written as the process exits.
    if (child.exitCode === null) await once(child, 'exit');
    await producer.disconnect();
    rmSync(modelDir, { recursive: true, force: true });
  }
}

await initTfBackend(logger);
await scoring();
if (!args['scoring-only']) await lag();
process.exit(0);
