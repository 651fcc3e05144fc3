import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { repoRoot } from './platform-process.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `sentio <args>` the way an operator does, to its end. */
export async function sentio(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 150_000,
): Promise<CliResult> {
  const child: ChildProcess = spawn(
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
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  // A hung command fails the test with its output instead of hanging it.
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (process.env['SENTIO_TEST_ECHO'])
    process.stderr.write(`sentio ${args.join(' ')}:\n${stdout}\n${stderr.slice(-6000)}\n`);
  return { code, signal, stdout, stderr };
}
