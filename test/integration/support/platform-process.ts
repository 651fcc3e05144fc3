import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { freePort } from '../../../tools/cli/src/process.util.js';

export const repoRoot = resolve(import.meta.dirname, '../../..');

export { freePort } from '../../../tools/cli/src/process.util.js';

/**
 * A platform process (`sentio run <targets>`) started the way operators start it, with its JSON log
 * collected for assertions.
 */
export class PlatformProcess {
  readonly output: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly baseUrl: string,
  ) {
    const collect = (chunk: Buffer) => this.output.push(chunk.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  /** Starts `sentio run <targets>` and waits until /health lists `readyComponent` (a component that registers last). */
  static async start(
    targets: string,
    env: Record<string, string>,
    readyComponent = 'ingest',
    // Two minutes: on this shared 2-core machine a process under a loaded suite took over 60 s to answer.
    timeoutMs = 120_000,
  ): Promise<PlatformProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        '--import',
        '@swc-node/register/esm-register',
        resolve(repoRoot, 'tools/cli/src/main.ts'),
        'run',
        targets,
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, SENTIO_HTTP_PORT: String(port), SENTIO_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const platform = new PlatformProcess(child, `http://127.0.0.1:${port}`);
    try {
      await platform.waitHealthy(readyComponent, timeoutMs);
    } catch (error) {
      // Nobody else holds it: left running, it would outlive the test and load the machine for the rest.
      child.kill('SIGKILL');
      throw error;
    }
    return platform;
  }

  get log(): string {
    return this.output.join('');
  }

  async waitHealthy(component: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `platform exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.log.slice(-4000)}`,
        );
      }
      try {
        const res = await fetch(`${this.baseUrl}/health`);
        if (res.ok && ((await res.json()) as { components: Record<string, unknown> }).components[component])
          return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`platform not healthy within ${timeoutMs} ms:\n${this.log.slice(-4000)}`);
  }

  /** Values of every series of a metric, e.g. one per partition. */
  async metricSeries(name: string): Promise<number[]> {
    const text = await (await fetch(`${this.baseUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  }

  async metric(name: string): Promise<number> {
    return (await this.metricSeries(name)).reduce((sum, v) => sum + v, 0);
  }

  async waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline)
        throw new Error(`condition not met within ${timeoutMs} ms:\n${this.log.slice(-3000)}`);
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`platform exited:\n${this.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Resolves with the exit code or signal once the process has ended (by itself or killed). */
  async exited(): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) await once(this.child, 'exit');
    return this.child.exitCode ?? this.child.signalCode!;
  }

  async stop(): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited();
  }
}
