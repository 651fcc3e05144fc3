import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '@sentio/config';
import {
  detectorsConfigSection,
  RelatedDeviceStream,
  initTfBackend,
  ModelStore,
  trainDeviceModel,
  WindowAssembler,
  type StreamRow,
} from '@sentio/detectors';
import type { TelemetrySample } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, produceTelemetry, sandbox, waitCaughtUp, type Sandbox } from './support/backbone.js';
import { freePort, repoRoot } from './support/platform-process.js';
import { sentio, type CliResult } from './support/replay-cli.js';

const ADMIN = { username: 'admin', password: 'replay-operator-password-1' };
const STEP_MS = 60_000;
const WEEK_STEPS = 7 * 24 * 60;
const DEVICES = ['pump-a', 'pump-b'];
const FAULT = { device: 'pump-a', fromStep: 6_000, toStep: 6_100 };
const T0 = Math.floor((Date.now() - 8 * 24 * 3_600_000) / 3_600_000) * 3_600_000;
const WEEK_END = T0 + WEEK_STEPS * STEP_MS;
const LIVE = 6_000;

/** One sample per metric per device per minute; pump-a's temperature is 15 higher during the fault. */
function samples(fromStep: number, toStep: number, devices: string[], withFault: boolean): TelemetrySample[] {
  let seed = 11;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const out: TelemetrySample[] = [];
  for (let s = fromStep; s < toStep; s++) {
    for (const [d, deviceId] of devices.entries()) {
      const fault =
        withFault && deviceId === FAULT.device && s >= FAULT.fromStep && s < FAULT.toStep ? 15 : 0;
      const values = {
        temperature: 50 + d + Math.sin(s / 30) * 2 + noise() + fault,
        pressure: 5 + Math.cos(s / 40) * 0.5 + noise(),
      };
      for (const [metric, value] of Object.entries(values)) {
        out.push({
          eventId: `${deviceId}-${metric}-${s}`,
          deviceId,
          timestampMs: T0 + s * STEP_MS,
          metric,
          value,
          unit: null,
          quality: 'GOOD',
          labels: {},
          source: 'operator-test',
        });
      }
    }
  }
  return out;
}

interface Progress {
  id: string;
  state: string;
  version: number;
  records: number;
  swapped: boolean;
  error?: string;
}

/**
 * The operator's whole path on a running `bin/sentio up` (its own state folder and HTTP port; the test's
 * broker and registry, so it starts none): rebuild the metrics family into version 2 (migration 004's new
 * 5-minute rollup) from the CLI while live ingest writes, watch its progress, pause it through the admin API,
 * resume it from the CLI, swap, query the API (same answers, now from the new rollup), roll back and forward;
 * start, pause, cancel and drop another rebuild; re-score a week of history with a new model version and
 * compare versions (anomalies with precision and recall, forecasts).
 */
describe('replay operator path on a running sentio up', () => {
  let box: Sandbox;
  let up: ChildProcess;
  let upLog = '';
  let stateDir: string;
  let baseUrl: string;
  let env: Record<string, string>;
  let token = '';
  const out: Record<string, CliResult> = {};
  const answers: Record<string, { points: unknown[]; resolution: string }> = {};
  let pausedByApi: Progress;
  let followedUntilPause = '';
  let cancelPaused: Progress;
  let versions: string[];

  const login = async () => {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    token = ((await res.json()) as { accessToken: string }).accessToken;
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}\n${upLog.slice(-3000)}`);
    return JSON.parse(text) as T;
  };
  const cli = (args: string[]) =>
    sentio([...args, '--api', baseUrl], { ...env, SENTIO_API_TOKEN: token }, 300_000);
  const series = () =>
    api<{ points: unknown[]; resolution: string }>(
      'GET',
      `/api/metrics/series?device=pump-a&metric=temperature&from=${new Date(T0).toISOString()}` +
        `&to=${new Date(T0 + 24 * 3_600_000).toISOString()}&step=5m&agg=count`,
    );

  beforeAll(async () => {
    box = await sandbox('replay_operator');
    stateDir = mkdtempSync(join(tmpdir(), 'sentio-replay-operator-'));
    const modelDir = join(stateDir, 'models');
    const httpPort = await freePort();
    baseUrl = `http://127.0.0.1:${httpPort}`;
    env = {
      ...box.env,
      SENTIO_UP_STATE_DIR: stateDir,
      SENTIO_STATE_DIR: stateDir,
      SENTIO_HTTP_PORT: String(httpPort),
      SENTIO_LOG_LEVEL: 'warn',
      SENTIO_ADMIN_USER: ADMIN.username,
      SENTIO_ADMIN_PASSWORD: ADMIN.password,
      DETECTORS_METRICS: 'temperature,pressure',
      DETECTORS_STEP_MS: String(STEP_MS),
      DETECTORS_MODEL_DIR: modelDir,
      // The live detectors never train here: the models to re-score with are the ones this test stores.
      DETECTORS_TRAIN_ROWS: '100000000',
      REPLAY_MAX_BATCH_RECORDS: '500',
      REPLAY_SWAP_THRESHOLD_RECORDS: '2000',
    };

    // The new model version of each device, trained the detector's way on a fault-free day before the week.
    const config = loadConfig([detectorsConfigSection], { env: { ...process.env, ...env } }).detectors;
    await initTfBackend(logger);
    versions = [];
    for (const deviceId of DEVICES) {
      const assembler = new WindowAssembler(config);
      const stream = new RelatedDeviceStream(config);
      const rows: StreamRow[] = [];
      for (const s of samples(-1_440, 0, DEVICES, false).filter((x) => x.deviceId === deviceId))
        for (const w of assembler.add(s)) rows.push(...stream.push(w).added);
      const model = await trainDeviceModel(deviceId, rows, config);
      versions.push(await new ModelStore(modelDir).save(deviceId, model));
      model.dispose();
    }
    await produceTelemetry(box, samples(0, WEEK_STEPS, DEVICES, true));

    up = spawn(resolve(repoRoot, 'bin/sentio'), ['up', '--no-simulator'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.on('data', (c: Buffer) => (upLog += c.toString()));
    up.stderr!.on('data', (c: Buffer) => (upLog += c.toString()));
    const deadline = Date.now() + 400_000;
    while (!upLog.includes('Sentio is running')) {
      if (Date.now() > deadline || up.exitCode !== null)
        throw new Error(`sentio up did not start:\n${upLog}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitCaughtUp(box.kafka, env['INGEST_GROUP_ID']!, box.topics.telemetry, 300_000);
    await login();
    answers['before'] = await series();

    // 1. Rebuild from the CLI, following its progress, while live traffic (pump-c) is ingested.
    const live = produceTelemetry(box, samples(0, LIVE / 2, ['pump-c'], false));
    const follow = streamCli(['replay', 'projection', 'metrics', '--api', baseUrl], {
      ...env,
      SENTIO_API_TOKEN: token,
    });
    // 2. Paused through the admin API once the CLI has shown progress.
    const progressLine = /replay ([0-9a-f]{8}) projection metrics v2 running: [1-9][\d,]* records/;
    while (!progressLine.test(follow.stdout())) {
      if (follow.exited()) throw new Error(`the CLI ended before showing progress:\n${follow.stdout()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const id = progressLine.exec(follow.stdout())![1]!;
    pausedByApi = await api<Progress>('POST', `/api/replays/${id}/pause`);
    out['follow'] = await follow.done;
    followedUntilPause = out['follow'].stdout;
    await live;
    out['listPaused'] = await cli(['replay', 'list']);
    // 3. Resumed from the CLI: it follows the replay to its swap.
    out['resume'] = await cli(['replay', 'resume', id]);
    await waitCaughtUp(box.kafka, env['INGEST_GROUP_ID']!, box.topics.telemetry, 300_000);
    answers['afterSwap'] = await series();
    out['versionsAfterSwap'] = await cli(['replay', 'versions']);

    // 4. Roll back, then forward.
    out['rollback'] = await cli(['replay', 'rollback', 'metrics']);
    answers['afterRollback'] = await series();
    out['forward'] = await cli(['replay', 'rollback', 'metrics']);
    answers['afterForward'] = await series();

    // 5. Another rebuild (into a clone, version 3), paused at once, cancelled and dropped from the CLI.
    const second = await api<Progress>('POST', '/api/replays', { family: 'metrics', swap: false });
    cancelPaused = await api<Progress>('POST', `/api/replays/${second.id}/pause`);
    out['cancel'] = await cli(['replay', 'cancel', second.id]);
    out['drop'] = await cli(['replay', 'drop', 'metrics', String(second.version)]);
    out['versionsAfterDrop'] = await cli(['replay', 'versions']);

    // 6. Re-score the week with the new model version and compare versions against the labelled fault.
    await login();
    const range = ['--from', new Date(T0).toISOString(), '--to', new Date(WEEK_END).toISOString()];
    out['rescore'] = await cli(['replay', 'detectors', '--model', 'current', ...range]);
    const labels = join(stateDir, 'faults.csv');
    writeFileSync(
      labels,
      `device,start,end\n${FAULT.device},${T0 + FAULT.fromStep * STEP_MS},${T0 + FAULT.toStep * STEP_MS}\n`,
    );
    out['compare'] = await cli(['replay', 'compare', '--labels', labels, ...range]);
  }, 1_500_000);

  afterAll(async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGTERM');
      await once(up, 'exit');
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  const ok = (r: CliResult | undefined) => {
    expect(r?.code, `${r?.stdout.slice(-2000)}\n${r?.stderr.slice(-2000)}`).toBe(0);
    return r!.stdout;
  };

  it('the CLI showed the rebuild running with its records, rate, lag and ETA', () => {
    expect(followedUntilPause).toMatch(/v2 running: [1-9][\d,]* records, [\d,]+\/s, lag [\d,]+, ETA /);
  });

  it('the admin API paused the replay at a checkpoint; the CLI lists it paused and resumes it to the swap', () => {
    expect(pausedByApi.state).toBe('paused');
    expect(followedUntilPause).toMatch(/v2 paused: /);
    expect(ok(out['listPaused'])).toMatch(
      new RegExp(`replay ${pausedByApi.id} projection metrics v2 paused`),
    );
    expect(ok(out['resume'])).toMatch(/metrics v2 done: .*swapped in/);
  });

  it('after the swap the API answers the same, now from the new 5-minute rollup', () => {
    expect(answers['before']!.points.length).toBeGreaterThan(100);
    expect(answers['before']!.resolution).toBe('1m');
    expect(answers['afterSwap']!.resolution).toBe('5m');
    expect(answers['afterSwap']!.points).toEqual(answers['before']!.points);
    expect(ok(out['versionsAfterSwap'])).toMatch(/^\* metrics v2: .*metrics_5m [1-9]/m);
    expect(out['versionsAfterSwap']!.stdout).toMatch(/^p metrics v1: /m);
  });

  it('rolls back to version 1 and forward to version 2 with the same answers', () => {
    expect(ok(out['rollback'])).toMatch(/rollback metrics v1 done: .*swapped in/);
    expect(answers['afterRollback']!.resolution).toBe('1m');
    expect(answers['afterRollback']!.points).toEqual(answers['before']!.points);
    expect(ok(out['forward'])).toMatch(/rollback metrics v2 done: .*swapped in/);
    expect(answers['afterForward']!.resolution).toBe('5m');
    expect(answers['afterForward']!.points).toEqual(answers['before']!.points);
  });

  it('pauses, cancels and drops another rebuild', () => {
    expect(cancelPaused.state).toBe('paused');
    expect(ok(out['cancel'])).toMatch(/metrics v3 cancelled/);
    expect(ok(out['drop'])).toContain('dropped version 3 of metrics');
    expect(ok(out['versionsAfterDrop'])).toMatch(/metrics v3 \(dropped\)/);
  });

  it('re-scores the week with the new model version beside the live results, anomalies and forecasts', () => {
    const text = ok(out['rescore']);
    expect(text).toMatch(/re-score [0-9a-f]{8} with model current: .* on 2 devices/);
    expect(Number(/(\d[\d,]*) anomalies written/.exec(text)![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number(/(\d[\d,]*) forecasts written/.exec(text)![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
  });

  it('compares versions: the new model finds the labelled fault; its forecasts are counted per version', () => {
    const text = ok(out['compare']);
    const anomalies = text.slice(0, text.search(/^source\s+model version\s+forecasts/m));
    const rows = anomalies
      .split('\n')
      .filter((l) => l.startsWith('replay:'))
      .map((l) => l.split(/\s{2,}/));
    expect(rows.map((r) => r[1]).sort()).toEqual(rows.length === 1 ? [versions[0]] : [...versions].sort());
    const faulty = rows.find((r) => r[1] === versions[0])!;
    expect(Number(faulty[4])).toBe(1); // recall: the fault was found
    const forecasts = text
      .slice(text.search(/^source\s+model version\s+forecasts/m))
      .split('\n')
      .filter((l) => l.startsWith('replay:'));
    expect(forecasts.map((l) => l.split(/\s{2,}/)[1]).sort(), text).toEqual([...versions].sort());
  });
});

/** `sentio <args>` with its stdout readable while it runs. */
function streamCli(args: string[], env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--import',
      '@swc-node/register/esm-register',
      resolve(repoRoot, 'tools/cli/src/main.ts'),
      ...args,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, SENTIO_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = once(child, 'exit').then(([code, signal]) => ({ code, signal, stdout, stderr }) as CliResult);
  return { stdout: () => stdout, exited: () => child.exitCode !== null, done };
}
