import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './support/backbone.js';
import { freePort, repoRoot } from './support/platform-process.js';

/** Resident memory of a process, in MB, from /proc. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
}

/** The processes whose parent is `pid`, with their command lines. */
function childrenOf(pid: number): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid)
        out.push({
          pid: Number(entry),
          cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '),
        });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, condition: () => boolean, log: () => string, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen:\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// `sentio up` as a supervisor: small, alone on its state folder, noticing and restarting a dead platform,
// and stopping everything it started.
describe('hardening: sentio up supervises what it starts', () => {
  let box: Sandbox;
  let up: ChildProcess;
  let output = '';
  let env: NodeJS.ProcessEnv;
  let stateDir: string;
  let httpPort: number;

  beforeAll(async () => {
    box = await sandbox('hardening_up');
    stateDir = mkdtempSync(join(tmpdir(), 'sentio-up-state-'));
    httpPort = await freePort();
    env = {
      ...process.env,
      ...box.env,
      SENTIO_UP_STATE_DIR: stateDir,
      SENTIO_CLICKHOUSE_PATH: box.clickhousePath,
      SENTIO_HTTP_PORT: String(httpPort),
      SENTIO_LOG_LEVEL: 'warn',
    };
    up = spawn(resolve(repoRoot, 'bin/sentio'), ['up', '--devices', '4'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    up.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    up.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(
      'the banner',
      () => output.includes('Sentio is running'),
      () => output,
    );
  });

  afterAll(async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGTERM');
      await once(up, 'exit');
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('needs tens of MB, refuses a second up on the same folder, restarts a killed platform, and stops everything on SIGTERM', async () => {
    const supervisorMb = rssMb(up.pid!);
    const children = childrenOf(up.pid!);
    const platform = children.find((c) => c.cmd.includes(' run all'))!;
    const simulator = children.find((c) => c.cmd.includes(' simulate '))!;
    expect(platform, JSON.stringify(children)).toBeDefined();
    expect(simulator, JSON.stringify(children)).toBeDefined();
    const simulatorMb = rssMb(simulator.pid);
    process.stdout.write(
      `sentio up --devices 4: supervisor ${supervisorMb} MB, simulator ${simulatorMb} MB, platform ${rssMb(platform.pid)} MB resident\n`,
    );
    expect(supervisorMb).toBeLessThan(100);

    const second = spawn(resolve(repoRoot, 'bin/sentio'), ['up', '--devices', '4'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let secondOutput = '';
    second.stderr!.on('data', (c: Buffer) => (secondOutput += c.toString()));
    const [code] = (await once(second, 'exit')) as [number];
    expect(code).toBe(1);
    expect(secondOutput).toContain(`already running on ${stateDir} (pid ${up.pid})`);

    process.kill(platform.pid, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor(
      'the death noticed',
      () => output.includes('platform exited (SIGKILL)'),
      () => output,
      10_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(5000);
    await waitFor(
      'the platform back',
      () => output.includes('platform is back'),
      () => output,
    );
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).ok).toBe(true);

    const started = childrenOf(up.pid!).map((c) => c.pid);
    up.kill('SIGTERM');
    const [exitCode] = (await once(up, 'exit')) as [number];
    expect(exitCode).toBe(0);
    expect(started.filter(alive)).toEqual([]);
    expect(existsSync(join(stateDir, 'up.pid'))).toBe(false);
  });
});
