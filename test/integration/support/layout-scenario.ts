import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { DevicesRepository, MetricsRepository } from '@sentio/clickhouse';
import { Plant } from '@sentio/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, sandbox, waitCaughtUp } from './backbone.js';
import { PlatformProcess, repoRoot } from './platform-process.js';

/** The layout scenario as a suite; each layout gets its own file, since one process opens one ClickHouse folder. */
export function describeLayout(name: string, targets: string): void {
  describe(`layout: ${name} (sentio run ${targets}, simulator in its own process)`, () => {
    let outcome: LayoutOutcome;

    beforeAll(async () => {
      outcome = await runLayoutScenario(`layout_${name.replace(/-/g, '_')}`, targets);
    });

    afterAll(async () => {
      await outcome?.close();
    });

    it('lists every simulated device in the inventory', () => {
      expect(outcome.devices).toEqual(outcome.expectedDevices);
    });

    it('stores every sample of every device', () => {
      expect(outcome.samplesPerDevice).toEqual(outcome.expectedSamplesPerDevice);
      expect(outcome.total).toBe([...outcome.expectedSamplesPerDevice.values()].reduce((a, b) => a + b, 0));
    });
  });
}

interface LayoutOutcome {
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
async function runLayoutScenario(name: string, targets: string): Promise<LayoutOutcome> {
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
  const store = openStore(box);
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
