import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

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
  if (built && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) {
    // A build from before precompression (or by `ng build` alone) gets its .br/.gz files now.
    precompressConsole(join(webDir, 'dist/browser'));
    return false;
  }
  log(built ? 'console: sources changed, rebuilding apps/web' : 'console: building apps/web (first run)');
  const result = spawnSync('npm', ['run', 'build', '-w', 'apps/web', '--silent'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`console build failed (npm run build -w apps/web):\n${result.stdout}\n${result.stderr}`);
  }
  precompressConsole(join(webDir, 'dist/browser'));
  writeFileSync(stamp, hash);
  return true;
}

/** The text files worth compressing; fonts and images are compressed already. index.html gets a nonce per answer. */
const COMPRESSIBLE = new Set([
  '.js',
  '.mjs',
  '.css',
  '.svg',
  '.json',
  '.map',
  '.txt',
  '.xml',
  '.webmanifest',
]);
/** Below this a compressed copy saves less than the headers it costs. */
const MIN_BYTES = 1024;

/**
 * Writes `<file>.br` (quality 11) and `<file>.gz` (level 9) beside each compressible file of a console build,
 * for the query API to send by Accept-Encoding without compressing per request. Skips copies newer than their
 * file; returns how many files it compressed.
 */
export function precompressConsole(dir: string): number {
  let count = 0;
  for (const file of files(dir)) {
    if (!COMPRESSIBLE.has(extname(file))) continue;
    const { size, mtimeMs } = statSync(file);
    if (size < MIN_BYTES) continue;
    const fresh = (copy: string) => existsSync(copy) && statSync(copy).mtimeMs >= mtimeMs;
    if (fresh(`${file}.br`) && fresh(`${file}.gz`)) continue;
    const content = readFileSync(file);
    writeFileSync(
      `${file}.br`,
      brotliCompressSync(content, {
        params: {
          [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
          [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
          [zlib.BROTLI_PARAM_SIZE_HINT]: size,
        },
      }),
    );
    writeFileSync(`${file}.gz`, gzipSync(content, { level: zlib.Z_BEST_COMPRESSION }));
    count++;
  }
  return count;
}
