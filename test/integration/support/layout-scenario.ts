import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import {
  ClickHouseStore,
  clickHouseConfigSection,
  DevicesRepository,
  MetricsRepository,
} from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import { Plant } from '@sentio/simulator';
import { logger, sandbox, waitCaughtUp } from './backbone.js';
import { PlatformProcess, repoRoot } from './platform-process.js';

export interface LayoutOutcome {
  expectedDevices: string[];
  expectedSamplesPerDevice: Map<string, number>;
  devices: string[];
  samplesPerDevice: Map<string, number>;
  total: number;
  close(): Promise<void>;
}

const DEVICES = 12;
const SEED = 7;

/**
 * The same scenario for every layout: the simulator runs as its own process and produces a plant's
 * lifecycle and telemetry; the platform runs `targets`; what lands in ClickHouse is compared with what an
 * independent copy of the plant says was produced.
 */
export async function runLayoutScenario(name: string, targets: string): Promise<LayoutOutcome> {
  const box = await sandbox(name);
  const platform = await PlatformProcess.start(targets, box.env);
  const simulator = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      resolve(repoRoot, 'tools/cli/src/main.ts'),
      'simulate',
      '--devices',
      String(DEVICES),
      '--seed',
      String(SEED),
      '--interval-ms',
      '250',
      '--duration-s',
      '3',
    ],
    { cwd: repoRoot, env: { ...process.env, ...box.env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  simulator.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(simulator, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`simulator exited ${code}:\n${out.slice(-2000)}`);
  const finished = out
    .split('\n')
    .filter((l) => l.includes('simulate: finished'))
    .map((l) => JSON.parse(l) as { done: number })[0];
  if (!finished) throw new Error(`simulator did not report its ticks:\n${out.slice(-2000)}`);

  await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
  await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.lifecycle);
  if ((await platform.stop()) !== 0)
    throw new Error(`platform did not stop cleanly:\n${platform.log.slice(-2000)}`);

  const plant = new Plant({ devices: DEVICES, seed: SEED });
  const expectedSamplesPerDevice = new Map(
    plant.devices().map((d) => [d.id, d.metrics.length * finished.done]),
  );
  const store = ClickHouseStore.open(
    loadConfig([clickHouseConfigSection], { env: box.env }).clickhouse,
    logger,
  );
  const rows = await store.query<{ device_id: string; n: string }>(
    `SELECT device_id, count() AS n FROM ${store.table('metrics')} GROUP BY device_id`,
  );
  return {
    expectedDevices: [...expectedSamplesPerDevice.keys()].sort(),
    expectedSamplesPerDevice,
    devices: (await new DevicesRepository(store).list()).map((d) => d.device_id),
    samplesPerDevice: new Map(rows.map((r) => [r.device_id, Number(r.n)])),
    total: await new MetricsRepository(store).count(),
    close: () => store.close(),
  };
}
