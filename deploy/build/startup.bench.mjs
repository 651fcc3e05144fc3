#!/usr/bin/env node
/* global process, console, performance, fetch, setTimeout */
// Start time and idle memory of each component, run from TypeScript through @swc-node/register (what the
// image ran before the production build) and from the compiled build (dist/cli, `npm run build:prod`), and
// the size of node_modules with and without dev dependencies (what the image's prune removes; no container
// engine here to measure the image itself).
//
//   KAFKA_BROKERS=... SCHEMA_REGISTRY_URL=... node deploy/build/startup.bench.mjs [--rounds 2] [--targets ingest,api]
//
// Start time: spawn until /health answers 200 (topics ensured, schemas registered, migrations applied).
// Idle RSS: VmRSS of the process 10 s after that, with no traffic. Each component gets its own topic
// namespace and ClickHouse folder, and is stopped with SIGTERM after the measurement.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    targets: { type: 'string', default: 'ingest,api,connectors,detectors,otlp,alerting' },
  },
});
const modes = {
  typescript: [
    '--enable-source-maps',
    '--import',
    '@swc-node/register/esm-register',
    'tools/cli/src/main.ts',
  ],
  compiled: ['--enable-source-maps', 'dist/cli/tools/cli/src/main.js'],
};

const freePort = () =>
  new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(mode, target, round) {
  const state = mkdtempSync(join(tmpdir(), `sentio-startup-${target}-`));
  const port = await freePort();
  const env = {
    ...process.env,
    SENTIO_NAMESPACE: `startup${process.pid}r${round}${mode[0]}${target.replace(/\W/g, '')}`,
    SENTIO_HTTP_PORT: String(port),
    SENTIO_CLICKHOUSE_PATH: join(state, 'clickhouse'),
    DETECTORS_MODEL_DIR: join(state, 'models'),
    OTLP_HTTP_PORT: String(await freePort()),
    SENTIO_JWT_SECRET: 'startup-bench-secret-startup-bench-secret',
    SENTIO_LOG_LEVEL: 'warn',
    KAFKA_PARTITIONS: '2',
  };
  const started = performance.now();
  const child = spawn(process.execPath, [...modes[mode], 'run', target], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let startMs;
  while (performance.now() - started < 180_000 && child.exitCode === null) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) {
      startMs = performance.now() - started;
      break;
    }
    await sleep(100);
  }
  if (startMs === undefined) {
    child.kill('SIGKILL');
    throw new Error(`${mode} ${target}: no healthy /health (exit ${child.exitCode}): ${stderr}`);
  }
  await sleep(10_000);
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(state, { recursive: true, force: true });
  return { startMs, rss };
}

function modulesSize(omitDev) {
  const args = ['ls', '--all', '--parseable', ...(omitDev ? ['--omit=dev'] : [])];
  let listing;
  try {
    listing = execFileSync('npm', args, {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (error) {
    listing = error.stdout; // npm ls exits 1 on extraneous or missing optional packages; the listing stands
  }
  // Packages under node_modules only (workspace folders are sources, copied either way); nested folders
  // are inside their parents, so keep the outermost.
  const dirs = [...new Set(listing.split('\n').filter((p) => p.includes('/node_modules/')))].sort();
  const outer = dirs.filter((d, i) => !dirs.slice(0, i).some((p) => d.startsWith(`${p}/`)));
  let bytes = 0;
  for (let i = 0; i < outer.length; i += 200) {
    const du = execFileSync('du', ['-s', '-b', '-c', ...outer.slice(i, i + 200)], { encoding: 'utf8' });
    bytes += Number(/(\d+)\s+total/.exec(du)[1]);
  }
  return { packages: outer.length, mb: bytes / 1e6 };
}

/** Loading every component's code, no broker involved: `run --help` imports the platform and exits. */
function loadSeconds(mode) {
  const started = performance.now();
  execFileSync(process.execPath, [...modes[mode], 'run', '--help'], { cwd: root, stdio: 'ignore' });
  return (performance.now() - started) / 1000;
}

const results = [];
const loads = { typescript: [], compiled: [] };
for (let i = 0; i < 3; i++) for (const mode of Object.keys(modes)) loads[mode].push(loadSeconds(mode));
console.error(
  `code load (run --help): typescript ${loads.typescript.map((s) => s.toFixed(2)).join(' ')} s, compiled ${loads.compiled.map((s) => s.toFixed(2)).join(' ')} s`,
);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const target of values.targets.split(',')) {
    for (const mode of Object.keys(modes)) {
      const r = await measure(mode, target, round);
      results.push({ round, target, mode, ...r });
      console.error(
        `round ${round} ${target.padEnd(10)} ${mode.padEnd(10)} start ${(r.startMs / 1000).toFixed(2)} s  idle RSS ${r.rss.toFixed(0)} MB`,
      );
    }
  }
}

console.log('\ncomponent   start (TS -> compiled)          idle RSS (TS -> compiled)   [median over rounds]');
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
for (const target of values.targets.split(',')) {
  const pick = (mode, key) =>
    median(results.filter((r) => r.target === target && r.mode === mode).map((r) => r[key]));
  const [ts, js] = [pick('typescript', 'startMs'), pick('compiled', 'startMs')];
  const [tsRss, jsRss] = [pick('typescript', 'rss'), pick('compiled', 'rss')];
  console.log(
    `${target.padEnd(11)} ${(ts / 1000).toFixed(2)} s -> ${(js / 1000).toFixed(2)} s (x${(js / ts).toFixed(2)})`.padEnd(
      44,
    ) + `${tsRss.toFixed(0)} MB -> ${jsRss.toFixed(0)} MB (x${(jsRss / tsRss).toFixed(2)})`,
  );
}
const [tsLoad, jsLoad] = [median(loads.typescript), median(loads.compiled)];
console.log(
  `code load   ${tsLoad.toFixed(2)} s -> ${jsLoad.toFixed(2)} s (x${(jsLoad / tsLoad).toFixed(2)})  [run --help: every component's modules, no broker]`,
);
const all = modulesSize(false);
const prod = modulesSize(true);
console.log(
  `node_modules: ${all.mb.toFixed(0)} MB (${all.packages} packages) with dev dependencies -> ` +
    `${prod.mb.toFixed(0)} MB (${prod.packages}) pruned (x${(prod.mb / all.mb).toFixed(2)})`,
);
