import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessSpec } from './process.util.js';

// `bin/sentio up` runs this file on Node's own type stripping, without the TypeScript loader and without
// the platform's libraries: a supervisor that only starts, watches and stops processes needs ~45 MB, where
// the CLI with every command loaded needed ~530 MB. So: Node built-ins and erasable TypeScript only here,
// and the helpers are imported by their .ts name at run time.
type Helpers = typeof import('./process.util.js');
const helpers = (await import(new URL('./process.util.ts', import.meta.url).href)) as Helpers;

/** What the prepare step (`sentio up --plan <file>`) hands the supervisor. */
export interface UpPlan {
  /** Started in this order, each once the previous one is ready; stopped in reverse. */
  processes: ProcessSpec[];
  banner: string[];
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The folder `up` keeps its ClickHouse data, demo files and lock in: one `up` at a time per folder. */
export function upStateDir(): string {
  return resolve(process.env['SENTIO_UP_STATE_DIR'] ?? resolve(root, '.sentio'));
}
/** A death within this long of the start counts as quick; five quick deaths in a row end `up`. */
const QUICK_MS = 60_000;
const MAX_QUICK_DEATHS = 5;

function say(line: string): void {
  process.stderr.write(`sentio up: ${line}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One `up` per state folder: a second one would start a second simulator and Mosquitto against the same
 * broker and ClickHouse folder. The lock holds the pid; a lock whose process is gone is taken over.
 */
function lock(stateDir: string): (() => void) | string {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'up.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        return `already running on ${stateDir} (pid ${pid}); stop it first (Ctrl-C in its terminal, or kill ${pid})`;
      rmSync(file, { force: true });
    }
  }
  return `could not take ${file}`;
}

/** The sentio CLI with the TypeScript loader, for the steps that need the platform's libraries. */
function cli(args: string[]): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--import',
      '@swc-node/register/esm-register',
      resolve(root, 'tools/cli/src/main.ts'),
      ...args,
    ],
    { stdio: 'inherit', cwd: root },
  );
}

interface Running {
  spec: ProcessSpec;
  child: ChildProcess;
  startedAt: number;
  quickDeaths: number;
}

/** Runs `sentio up`: prepare, start the plan, watch it. Resolves with the exit code. */
export async function superviseUp(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (await once(cli(['up', ...argv]), 'exit'))[0] as number;
  const stateDir = upStateDir();
  const release = lock(stateDir);
  if (typeof release === 'string') {
    say(release);
    return 1;
  }
  const running: Running[] = [];
  let stopping = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((r) => (finish = r));

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await Promise.all([...running].reverse().map((r) => helpers.stopChild(r.child)));
    release();
    finish(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  // Prepare in a child with the TypeScript loader, which exits once it has written the plan.
  const planFile = join(tmpdir(), `sentio-up-plan-${process.pid}.json`);
  const prepare = cli(['up', '--plan', planFile, ...argv]);
  const [prepared] = (await once(prepare, 'exit')) as [number | null];
  if (prepared !== 0 || stopping) {
    release();
    return stopping ? 0 : (prepared ?? 1);
  }
  if (!existsSync(planFile)) {
    say('the prepare step wrote no plan');
    release();
    return 1;
  }
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as UpPlan;
  rmSync(planFile, { force: true });

  const watch = (entry: Running) => {
    entry.child.once('exit', (code, signal) => {
      if (stopping) return;
      const ranMs = Date.now() - entry.startedAt;
      entry.quickDeaths = ranMs < QUICK_MS ? entry.quickDeaths + 1 : 1;
      say(`${entry.spec.name} exited (${signal ?? `code ${code}`}) after ${Math.round(ranMs / 1000)} s`);
      if (entry.quickDeaths >= MAX_QUICK_DEATHS) {
        say(`${entry.spec.name} died ${entry.quickDeaths} times in a row; stopping everything`);
        void stopAll(1);
        return;
      }
      const waitMs = Math.min(30_000, 1000 * 2 ** (entry.quickDeaths - 1));
      say(`restarting ${entry.spec.name} in ${waitMs / 1000} s`);
      setTimeout(() => void restart(entry), waitMs);
    });
  };
  const restart = async (entry: Running) => {
    if (stopping) return;
    try {
      const child = await helpers.startProcess(entry.spec);
      // Ctrl-C while it was starting: stopAll has already stopped the others.
      if (stopping) return void (await helpers.stopChild(child));
      entry.child = child;
      entry.startedAt = Date.now();
      say(`${entry.spec.name} is back`);
      watch(entry);
    } catch (error) {
      say(`${entry.spec.name} did not come back: ${(error as Error).message}`);
      entry.quickDeaths++;
      if (entry.quickDeaths >= MAX_QUICK_DEATHS) void stopAll(1);
      else setTimeout(() => void restart(entry), Math.min(30_000, 1000 * 2 ** entry.quickDeaths));
    }
  };

  try {
    for (const spec of plan.processes) {
      if (stopping) break;
      const child = await helpers.startProcess(spec);
      const entry: Running = { spec, child, startedAt: Date.now(), quickDeaths: 0 };
      running.push(entry);
      watch(entry);
    }
  } catch (error) {
    say((error as Error).message);
    await stopAll(1);
    return finished;
  }
  if (!stopping) process.stdout.write(plan.banner.join('\n'));
  return finished;
}

if (import.meta.main) {
  // bin/sentio up ...: the arguments after `up`.
  process.exitCode = await superviseUp(process.argv.slice(3));
}
