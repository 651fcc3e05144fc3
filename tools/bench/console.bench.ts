/**
 * The operator console's figures, measured in Debian's Chromium against a real platform (`ingest,detectors,
 * otlp,api` in one process, the built console served at /) with a simulated fleet:
 *
 *   initial JavaScript (gzip) of the first page; the fleet page with 10,000 devices (time to interactive, long
 *   tasks while loading and scrolling); a 100,000-point chart's draw time; JS heap over a live run of 20 series
 *   at 1 Hz; Lighthouse (desktop preset) on the fleet and device pages.
 *
 * Needs a broker and registry (KAFKA_BROKERS, SCHEMA_REGISTRY_URL; default: what `sentio up` runs) and
 * /usr/bin/chromium (CHROME_PATH). Prints JSON progress on stderr and a report on stdout; asserts nothing.
 *
 *   npm run bench:console -- [--devices 10000] [--live-seconds 300] [--no-lighthouse]
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { ADMIN, CHROMIUM, startConsolePlatform, until } from '../../test/browser/support/console-platform.js';
import { repoRoot } from '../../test/integration/support/platform-process.js';
import { ensureConsoleBuilt } from '../cli/src/console-build.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    'live-seconds': { type: 'string', default: '300' },
    'no-lighthouse': { type: 'boolean', default: false },
  },
});
const DEVICES = Number(values.devices);
const LIVE_SECONDS = Number(values['live-seconds']);
process.env['KAFKA_BROKERS'] ??= '127.0.0.1:9092';
process.env['SCHEMA_REGISTRY_URL'] ??= 'http://127.0.0.1:8081/apis/ccompat/v7';

/** The little of the DOM the page-side predicates use (this file compiles without the DOM library). */
interface Dom {
  querySelector(
    selector: string,
  ): { textContent: string | null; getAttribute(name: string): string | null } | null;
}

const progress = (msg: string, extra: Record<string, unknown> = {}) =>
  process.stderr.write(
    `${JSON.stringify({ level: 'info', time: new Date().toISOString(), msg, ...extra })}\n`,
  );
const report: string[] = [];
const print = (line: string) => {
  report.push(line);
  process.stdout.write(`${line}\n`);
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);

/** Main-thread CPU time (ms) of each task in a Chromium trace: what the page cost, not how long it waited. */
function mainThreadTaskCpuMs(trace: Buffer): number[] {
  type TraceEvent = {
    name: string;
    ph: string;
    pid: number;
    tid: number;
    tdur?: number;
    args?: { name?: string };
  };
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const mains = events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  return events
    .filter((e) => e.name === 'RunTask' && e.ph === 'X' && e.tdur !== undefined)
    .filter((e) => mains.some((m) => m.pid === e.pid && m.tid === e.tid))
    .map((e) => e.tdur! / 1000);
}

// 1. Initial JavaScript: what index.html loads before any lazy route (scripts and module preloads).
ensureConsoleBuilt(repoRoot, (line) => progress(line));
const dist = join(repoRoot, 'apps/web/dist/browser');
const indexHtml = readFileSync(join(dist, 'index.html'), 'utf8');
const initialFiles = [...indexHtml.matchAll(/(?:src|href)="([^"]+\.js)"/g)].map((m) => m[1]!);
const gzipOf = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const initialGzip = initialFiles.reduce((sum, f) => sum + gzipOf(f), 0);

progress('starting the platform and simulator', { devices: DEVICES });
const plant = await startConsolePlatform({
  name: 'console_bench',
  devices: DEVICES,
  intervalMs: 5000,
  durationS: 12,
  env: { QUERY_API_MAX_ROWS: String(Math.max(10_000, DEVICES)) },
});
const debugPort = await freePort();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--headless=new', `--remote-debugging-port=${debugPort}`],
});
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript(() => {
    const g = globalThis as unknown as { __longTasks: number[] };
    g.__longTasks = [];
    new PerformanceObserver((list) =>
      list.getEntries().forEach((e) => g.__longTasks.push(e.duration)),
    ).observe({
      type: 'longtask' as never,
      buffered: true,
    });
  });
  const page = await context.newPage();
  const base = plant.baseUrl;
  await until(
    `${DEVICES} devices in the inventory`,
    async () => {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ADMIN),
      });
      const { accessToken } = (await res.json()) as { accessToken: string };
      const devices = await fetch(`${base}/api/devices?limit=${DEVICES}`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const { items } = (await devices.json()) as { items: unknown[] };
      progress('inventory', { devices: items.length });
      return items.length >= DEVICES;
    },
    300_000,
  );

  // The first page a signed-out operator gets, as the browser loads it (JS bytes over the wire).
  const jsBytes = await transferredJs(page, `${base}/sign-in`);
  await page.getByTestId('username').fill(ADMIN.username);
  await page.getByTestId('password').fill(ADMIN.password);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('user-menu').waitFor();

  // 2. Fleet with DEVICES devices: a fresh load (the session restored from the refresh cookie).
  progress('fleet');
  await page.goto(`${base}/fleet`);
  // Interactive: the first rows drawn (the first page of devices); then every device counted. Timed inside the
  // page (rAF polling), from navigation start.
  const firstRows = Number(
    await (
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { document: Dom }).document.querySelector('[data-testid="fleet-row"]')
            ? performance.now()
            : 0,
        null,
        { timeout: 120_000 },
      )
    ).jsonValue(),
  );
  const tti = Number(
    await (
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as { document: Dom }).document.querySelector('[data-testid="fleet-count"]')
            ?.textContent === String(n)
            ? performance.now()
            : 0,
        DEVICES,
        { timeout: 120_000 },
      )
    ).jsonValue(),
  );
  const loadTasks = await page.evaluate(() =>
    (globalThis as unknown as { __longTasks: number[] }).__longTasks.splice(0),
  );
  const viewport = page.getByTestId('fleet-viewport');
  await viewport.hover();
  // A trace of the scroll separates the page's own work (each task's main-thread CPU time) from the wait for
  // a core: the platform and simulator share the machine's two cores with the browser.
  await browser.startTracing(page, {
    categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline'],
  });
  const loadBefore = loadavg()[0]!;
  const scrollStarted = Date.now();
  for (let i = 0; i < 80; i++) {
    await page.mouse.wheel(0, 1200);
    await page.waitForTimeout(40);
  }
  await page.waitForTimeout(500);
  const scrollMs = Date.now() - scrollStarted;
  const scrolledTo = await viewport.evaluate((el) => el.scrollTop);
  const scrollTasks = await page.evaluate(() =>
    (globalThis as unknown as { __longTasks: number[] }).__longTasks.splice(0),
  );
  const scrollCpu = mainThreadTaskCpuMs(await browser.stopTracing());
  const scrollLoad = (loadBefore + loadavg()[0]!) / 2;

  progress('fleet measured', {
    firstRowsMs: Math.round(firstRows),
    allCountedMs: Math.round(tti),
    loadLongTasks: loadTasks.map(Math.round),
    scrolledTo,
    scrollLongTasks: scrollTasks.map(Math.round),
    scrollTaskCpuMaxMs: Math.round(max(scrollCpu)),
  });

  // 3. A chart of 100,000 points.
  progress('chart');
  const drawMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(`${base}/diagnostics?mode=chart&points=100000`);
    const result = page.getByTestId('diagnostics-result');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { document: Dom }).document
          .querySelector('[data-draw-ms]')
          ?.getAttribute('data-draw-ms'),
      null,
      { timeout: 60_000 },
    );
    drawMs.push(Number(await result.getAttribute('data-draw-ms')));
  }
  const drawn = await page.getByTestId('diagnostics-result').getAttribute('data-drawn-points');
  progress('chart measured', { drawMs, drawn });

  // 4. Lighthouse, desktop preset, on the signed-in fleet and device pages (the session cookie is kept).
  const scores: Record<string, Record<string, number>> = {};
  if (!values['no-lighthouse']) {
    const { default: lighthouse } = await import('lighthouse');
    const { default: desktop } = await import('lighthouse/core/config/desktop-config.js');
    for (const [name, path] of [
      ['fleet', '/fleet'],
      ['device', '/devices/pump-0001?from=now-15m&to=now'],
    ] as const) {
      progress('lighthouse', { page: name });
      const result = await lighthouse(
        `${base}${path}`,
        {
          port: debugPort,
          output: 'json',
          logLevel: 'error',
          disableStorageReset: true,
          onlyCategories: ['performance', 'accessibility', 'best-practices'],
        },
        desktop,
      );
      const categories = result?.lhr.categories ?? {};
      scores[name] = Object.fromEntries(
        Object.entries(categories).map(([k, c]) => [k, Math.round((c.score ?? 0) * 100)]),
      );
    }
  }

  progress('lighthouse measured', scores);

  // 5. Live: 20 series at 1 Hz for LIVE_SECONDS; the JS heap after a forced GC, each minute.
  progress('live', { seconds: LIVE_SECONDS });
  const live = await startConsolePlatformSimulator(plant);
  await page.goto(`${base}/diagnostics?mode=live&series=20&windowS=60&live=1`);
  const cdp = await context.newCDPSession(page);
  const heap: Array<[number, number]> = [];
  const started = Date.now();
  while (Date.now() - started < LIVE_SECONDS * 1000) {
    await page.waitForTimeout(Math.min(60_000, LIVE_SECONDS * 1000 - (Date.now() - started)));
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    heap.push([Math.round((Date.now() - started) / 1000), usedSize]);
    progress('live heap', { seconds: heap.at(-1)![0], usedBytes: usedSize });
  }
  const liveSeries = await page.getByTestId('diagnostics-result').getAttribute('data-series');
  const received = await page.getByTestId('diagnostics-result').getAttribute('data-received');
  await live.stop();

  print('');
  print(`Console benchmark (Chromium ${browser.version()}, ${DEVICES} devices)`);
  print(
    `initial JavaScript: ${kb(initialGzip)} gzip in ${initialFiles.length} files (goal <= 350 kB); ` +
      `the sign-in page transferred ${kb(jsBytes.transferred)} of JS (${kb(jsBytes.decoded)} decoded)`,
  );
  print(
    `fleet, ${DEVICES} devices: first rows interactive ${Math.round(firstRows)} ms, all ${DEVICES} loaded and counted ${Math.round(tti)} ms after navigation (goal: interactive <= 1500 ms); ` +
      `long tasks while loading: ${loadTasks.length} (max ${Math.round(max(loadTasks))} ms)`,
  );
  print(
    `fleet scrolling: ${scrolledTo}px in ${scrollMs} ms (80 wheel steps): long tasks > 50 ms: ${scrollTasks.length} (max ${Math.round(max(scrollTasks))} ms) wall clock, ` +
      `machine load ${scrollLoad.toFixed(1)} on ${cpus().length} cores; the page's own work: ${scrollCpu.length} main-thread tasks, ` +
      `${scrollCpu.filter((c) => c > 50).length} over 50 ms of CPU (max ${max(scrollCpu).toFixed(1)} ms, total ${Math.round(scrollCpu.reduce((a, b) => a + b, 0))} ms)`,
  );
  print(
    `chart of 100,000 points (LTTB to ${drawn}, setOption, render): ${drawMs.join(' / ')} ms (goal <= 500 ms)`,
  );
  print(
    `live: ${liveSeries} series at 1 Hz for ${LIVE_SECONDS} s, ${received} pushes: JS heap after GC ` +
      heap.map(([s, b]) => `${s}s ${(b / 1048576).toFixed(1)} MB`).join(', ') +
      (heap.length > 1
        ? ` (first to last: ${(((heap.at(-1)![1] - heap[0]![1]) / heap[0]![1]) * 100).toFixed(1)} %)`
        : ''),
  );
  for (const [name, s] of Object.entries(scores))
    print(
      `lighthouse ${name} (desktop): performance ${s['performance']}, accessibility ${s['accessibility']}, best practices ${s['best-practices']} (goals 90 / 95 / 95)`,
    );
} finally {
  await browser.close();
  await plant.stop();
}

/** A second, small simulator at 1 Hz: 4 devices x 5 metrics = the 20 live series. */
async function startConsolePlatformSimulator(p: { box: { env: Record<string, string> } }) {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      join(repoRoot, 'tools/cli/src/main.ts'),
      'simulate',
      '--devices',
      '4',
      '--interval-ms',
      '1000',
    ],
    { cwd: repoRoot, env: { ...process.env, ...p.box.env }, stdio: 'ignore' },
  );
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function transferredJs(page: Page, url: string): Promise<{ transferred: number; decoded: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const scripts = new Set<string>();
  let transferred = 0;
  let decoded = 0;
  cdp.on('Network.responseReceived', (e) => {
    if (e.type === 'Script') scripts.add(e.requestId);
  });
  cdp.on('Network.loadingFinished', (e) => {
    if (scripts.has(e.requestId)) transferred += e.encodedDataLength;
  });
  cdp.on('Network.dataReceived', (e) => {
    if (scripts.has(e.requestId)) decoded += e.dataLength;
  });
  await page.goto(url, { waitUntil: 'networkidle' });
  await cdp.detach();
  return { transferred, decoded };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
