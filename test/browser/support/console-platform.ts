import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ensureConsoleBuilt } from '../../../tools/cli/src/console-build.js';
import { sandbox, type Sandbox } from '../../integration/support/backbone.js';
import { freePort, PlatformProcess, repoRoot } from '../../integration/support/platform-process.js';

export const ADMIN = { username: 'console-admin', password: 'console-admin-passphrase' };
/** Every component, as `bin/sentio run all` runs them (connectors without a file and replay stay idle). */
export const TARGETS = 'all';
export const CHROMIUM = process.env['CHROME_PATH'] ?? '/usr/bin/chromium';

/** The platform as an operator runs it (`sentio run all`, console built and served at /) plus the simulator. */
export interface ConsolePlatform {
  box: Sandbox;
  platform: PlatformProcess;
  baseUrl: string;
  otlpUrl: string;
  simulatorStartedMs: number;
  stop(): Promise<void>;
}

export interface ConsolePlatformOptions {
  name: string;
  devices: number;
  intervalMs: number;
  faults?: string[];
  /** Seconds; 0 = until stopped. */
  durationS?: number;
  env?: Record<string, string>;
}

export async function startConsolePlatform(options: ConsolePlatformOptions): Promise<ConsolePlatform> {
  ensureConsoleBuilt(repoRoot);
  const box = await sandbox(options.name);
  const otlpPort = await freePort();
  const env = {
    ...box.env,
    SENTIO_ADMIN_USER: ADMIN.username,
    SENTIO_ADMIN_PASSWORD: ADMIN.password,
    OTLP_HTTP_PORT: String(otlpPort),
    DETECTORS_GROUP_ID: `detectors-${box.namespace}`,
    DETECTORS_MODEL_DIR: join(box.clickhousePath, 'models'),
    QUERY_API_LIVE_GROUP_PREFIX: `live-${box.namespace}`,
    // Rules come from the console (no rule files); no receivers, so firing alerts are only shown, not sent.
    ALERTING_GROUP_ID: `alerting-${box.namespace}`,
    ...options.env,
  };
  // Every component in one process as `sentio run all` runs them; the simulator produces to Kafka (telemetry,
  // lifecycle, its log lines and publish-cycle traces), so the connectors have no file.
  // Every migration and module at start: minutes, not seconds, when the two cores are shared.
  const platform = await PlatformProcess.start(
    process.env['SENTIO_CONSOLE_TEST_TARGETS'] ?? TARGETS,
    env,
    'ingest',
    240_000,
  );
  const simulatorStartedMs = Date.now();
  const simulator = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      resolve(repoRoot, 'tools/cli/src/main.ts'),
      'simulate',
      '--devices',
      String(options.devices),
      '--interval-ms',
      String(options.intervalMs),
      '--duration-s',
      String(options.durationS ?? 0),
      ...(options.faults ?? []).flatMap((f) => ['--fault', f]),
    ],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let simulatorLog = '';
  simulator.stderr!.on(
    'data',
    (chunk: Buffer) => (simulatorLog = (simulatorLog + chunk.toString()).slice(-4000)),
  );
  simulator.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`simulator exited ${code}:\n${simulatorLog}\n`);
  });
  return {
    box,
    platform,
    baseUrl: platform.baseUrl,
    otlpUrl: `http://127.0.0.1:${otlpPort}`,
    simulatorStartedMs,
    stop: async () => {
      await stopChild(simulator);
      await platform.stop();
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless=new'],
  });
}

/** A small REST client for the same API the console uses. */
export async function apiLogin(baseUrl: string, user: { username: string; password: string }) {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  if (!res.ok) throw new Error(`login ${user.username}: ${res.status} ${await res.text()}`);
  const { accessToken } = (await res.json()) as { accessToken: string };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    token: accessToken,
    call,
    async get<T>(path: string): Promise<T> {
      const res = await call('GET', path);
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  };
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
