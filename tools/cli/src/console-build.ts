import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What the console build depends on: its sources, assets and build configuration (not the output). */
const INPUTS = ['src', 'public', 'angular.json', 'package.json', 'tsconfig.json', 'tsconfig.app.json'];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => (name.endsWith('.spec.ts') ? [] : files(join(path, name))));
}

/** A hash of every input file's path and content: a checkout's mtimes say nothing about staleness. */
export function consoleSourceHash(webDir: string): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap((input) => files(join(webDir, input)))) {
    hash.update(relative(webDir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Builds the operator console (apps/web/dist/browser, served by the platform at /) when the build is missing
 * or older than its sources; returns whether it built. Throws when the build fails.
 */
export function ensureConsoleBuilt(root: string, log: (line: string) => void = () => undefined): boolean {
  const webDir = join(root, 'apps/web');
  const stamp = join(webDir, 'dist/.source-hash');
  const hash = consoleSourceHash(webDir);
  const built = existsSync(join(webDir, 'dist/browser/index.html'));
  if (built && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return false;
  log(built ? 'console: sources changed, rebuilding apps/web' : 'console: building apps/web (first run)');
  const result = spawnSync('npm', ['run', 'build', '-w', 'apps/web', '--silent'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`console build failed (npm run build -w apps/web):\n${result.stdout}\n${result.stderr}`);
  }
  writeFileSync(stamp, hash);
  return true;
}
