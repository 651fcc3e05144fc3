import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';

// Process helpers of `sentio up`, the demo wiring, the test peers and the integration tests: one copy.
// Node built-ins only and erasable TypeScript only, so that the `up` supervisor runs on Node's own type
// stripping, without the TypeScript loader (which alone costs ~120 MB resident).

/** `preferred` when nothing listens there on 127.0.0.1, else any free port. */
export async function freePort(preferred?: number): Promise<number> {
  const tryListen = async (port: number): Promise<number | undefined> => {
    const server = createServer();
    server.listen(port, '127.0.0.1');
    try {
      await Promise.race([
        once(server, 'listening'),
        once(server, 'error').then(([e]) => Promise.reject(e as Error)),
      ]);
    } catch {
      return undefined;
    }
    const chosen = (server.address() as { port: number }).port;
    server.close();
    await once(server, 'close');
    return chosen;
  };
  return (preferred === undefined ? undefined : await tryListen(preferred)) ?? (await tryListen(0))!;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits until `ready()` holds, failing as soon as the child exits or the time is up. */
export async function waitUntil(
  what: string,
  child: ChildProcess,
  ready: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (exited(child)) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode})`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, then SIGKILL if the process has not gone within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (exited(child)) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** When a started process counts as up. */
export interface Readiness {
  /** TCP ports on 127.0.0.1 that accept connections. */
  tcp?: number[];
  /** Files that exist. */
  files?: string[];
  /** A URL that answers 2xx. */
  http?: string;
  timeoutMs?: number;
}

/** A long-running process of `sentio up` or of the demo, as data, so that whoever runs it can restart it. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  ready?: Readiness;
}

export async function isReady(ready: Readiness): Promise<boolean> {
  for (const port of ready.tcp ?? []) if (!(await accepts(port))) return false;
  for (const file of ready.files ?? []) if (!existsSync(file)) return false;
  if (ready.http && !(await answers(ready.http))) return false;
  return true;
}

/** Whether the URL answers 2xx. node:http, not fetch: undici alone adds ~18 MB to the supervisor. */
function answers(url: string): Promise<boolean> {
  return new Promise((done) => {
    const request = get(url, (response) => {
      response.resume();
      done((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300);
    });
    request.setTimeout(5000, () => request.destroy());
    request.once('error', () => done(false));
  });
}

/** Starts the process and waits until it is ready; a process that fails to get ready is stopped. */
export async function startProcess(
  spec: ProcessSpec,
  stdio: StdioOptions = 'inherit',
): Promise<ChildProcess> {
  const child = spawn(spec.command, spec.args, { stdio, env: spec.env ?? process.env, cwd: spec.cwd });
  if (spec.ready) {
    try {
      await waitUntil(spec.name, child, () => isReady(spec.ready!), spec.ready.timeoutMs);
    } catch (error) {
      await stopChild(child, 5000);
      throw error;
    }
  }
  return child;
}
