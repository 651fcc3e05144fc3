import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { DevicesRepository, MetricsRepository } from '@sentio/clickhouse';
import { Plant } from '@sentio/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, sandbox, waitCaughtUp } from './backbone.js';
import { PlatformProcess, repoRoot } from './platform-process.js';

/**
 * A layout: the process that owns ClickHouse (its targets), and the other components, each in a process of
 * its own (split) or none (all-in-one, where `owner` is `all`).
 */
export interface Layout {
  name: string;
  owner: string;
  others: Array<{ targets: string; readyComponent: string }>;
}

/** The layout scenario as a suite; each layout gets its own file, since one process opens one ClickHouse folder. */
export function describeLayout(layout: Layout): void {
  const shape = [layout.owner, ...layout.others.map((o) => o.targets)]
    .map((t) => `sentio run ${t}`)
    .join(' + ');
  describe(`layout: ${layout.name} (${shape}, simulator in its own process)`, () => {
    let outcome: LayoutOutcome;

    beforeAll(async () => {
      outcome = await runLayoutScenario(layout);
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

    it('answers through the query API with the same devices and counts', () => {
      expect(outcome.apiDevices).toEqual(outcome.expectedDevices);
      expect(outcome.apiSamplesPerDevice).toEqual(outcome.expectedSamplesPerDevice);
    });

    it('ran every component process to a clean stop', () => {
      expect(outcome.exitCodes).toEqual(outcome.exitCodes.map(() => 0));
    });
  });
}

interface LayoutOutcome {
  expectedDevices: string[];
  expectedSamplesPerDevice: Map<string, number>;
  devices: string[];
  samplesPerDevice: Map<string, number>;
  apiDevices: string[];
  apiSamplesPerDevice: Map<string, number>;
  total: number;
  exitCodes: Array<number | string>;
  close(): Promise<void>;
}

const DEVICES = 12;
const SEED = 7;
const ADMIN = { username: 'layout-admin', password: 'layout-test-passphrase' };

/**
 * The same scenario for every layout: the simulator runs as its own process and produces a plant's
 * lifecycle and telemetry; what lands in ClickHouse, and what the query API answers, are compared with
 * what an independent copy of the plant says was produced.
 */
async function runLayoutScenario(layout: Layout): Promise<LayoutOutcome> {
  const box = await sandbox(`layout_${layout.name.replace(/-/g, '_')}`);
  const env = { ...box.env, SENTIO_ADMIN_USER: ADMIN.username, SENTIO_ADMIN_PASSWORD: ADMIN.password };
  const owner = await PlatformProcess.start(layout.owner, env);
  const others = await Promise.all(
    layout.others.map((o) => PlatformProcess.start(o.targets, env, o.readyComponent)),
  );
  const started = Date.now();
  const ticks = await simulate(box.env);

  await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
  await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.lifecycle);
  const plant = new Plant({ devices: DEVICES, seed: SEED });
  const api = await queryApi(owner.baseUrl, plant, started - 3_600_000, Date.now() + 3_600_000);
  const exitCodes = [await owner.stop(), ...(await Promise.all(others.map((o) => o.stop())))];

  const expectedSamplesPerDevice = new Map(plant.devices().map((d) => [d.id, d.metrics.length * ticks]));
  const store = openStore(box);
  const rows = await store.query<{ device_id: string; n: string }>(
    `SELECT device_id, count() AS n FROM ${store.table('metrics')} GROUP BY device_id`,
  );
  return {
    expectedDevices: [...expectedSamplesPerDevice.keys()].sort(),
    expectedSamplesPerDevice,
    devices: (await new DevicesRepository(store).list()).map((d) => d.device_id),
    samplesPerDevice: new Map(rows.map((r) => [r.device_id, Number(r.n)])),
    ...api,
    total: await new MetricsRepository(store).count(),
    exitCodes,
    close: () => store.close(),
  };
}

/** Runs the simulator to completion and returns how many ticks it produced. */
async function simulate(env: Record<string, string>): Promise<number> {
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
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  // Its progress is a JSON log line, and logs go to stderr.
  let out = '';
  simulator.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(simulator, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`simulator exited ${code}:\n${out.slice(-2000)}`);
  const finished = out
    .split('\n')
    .filter((l) => l.includes('simulate: finished'))
    .map((l) => JSON.parse(l) as { done: number })[0];
  if (!finished) throw new Error(`simulator did not report its ticks:\n${out.slice(-2000)}`);
  return finished.done;
}

/** Devices, and per device the hourly sample counts summed over every metric, as the REST API reports them. */
async function queryApi(baseUrl: string, plant: Plant, fromMs: number, toMs: number) {
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const devices = await get<{ items: Array<{ deviceId: string }> }>('/api/devices?limit=100');
  const apiSamplesPerDevice = new Map<string, number>();
  const range = `from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}&step=1h&agg=count`;
  for (const device of plant.devices()) {
    let total = 0;
    for (const metric of device.metrics) {
      const series = await get<{ points: Array<{ value: number }> }>(
        `/api/metrics/series?device=${device.id}&metric=${metric.name}&${range}`,
      );
      total += series.points.reduce((sum, p) => sum + p.value, 0);
    }
    apiSamplesPerDevice.set(device.id, total);
  }
  return {
    apiDevices: devices.items.map((d) => d.deviceId).sort(),
    apiSamplesPerDevice,
  };
}
