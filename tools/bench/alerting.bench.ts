/**
 * Alerting benchmark: 1,000 rules over 10,000 devices (10 metrics each).
 *
 * A. Evaluator alone, in this process on one core: samples through AlertEngine (the live evaluator), events
 *    evaluated per second.
 * B. End to end: `sentio run alerting` as its own process against the broker; telemetry produced at the target
 *    rate; a few devices per second cross their threshold; a webhook receiver here times each notification
 *    against the produce time of the sample that fired it. Prints events/s evaluated per CPU-second of the
 *    alerting process, whether it kept up (lag), and event-to-notification p50/p99.
 *
 * The webhook receiver runs in a process of its own and timestamps arrivals there: a receiver inside this
 * busy producing process answered (and timed) late, which inflated the measured latency.
 *
 * npm run bench:alerting -- [--rate 100000] [--seconds 20] [--devices 10000] [--rules 1000] [--cpu-prof]
 *   --cpu-prof: the alerting process writes a V8 CPU profile; the functions with the most self time print.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AlertEngine, parseRule, RuleSet, type EngineInput } from '@sentio/alerting';
import { consumerLag, EventProducer } from '@sentio/kafka';
import { progressReporter } from '@sentio/observability';
import type { Message } from 'kafkajs';
import { stringify } from 'yaml';
import { freePort } from '../peers/alerting-peers.js';
import {
  benchBackbone,
  benchDeviceId,
  BENCH_METRICS,
  benchLoggers,
  percentile,
  processCpuSeconds,
} from './bench-setup.util.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '20' },
    devices: { type: 'string', default: '10000' },
    rules: { type: 'string', default: '1000' },
    'engine-events': { type: 'string', default: '2000000' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const DEVICES = Number(values.devices);
const RULES = Number(values.rules);
const GROUPS = 100;
const { logger, progressLog } = benchLoggers();

/** Rule r watches metric r % 10 on the devices of group (r / 10) % 100: each device is watched by 10 rules, one per metric. */
const ruleDefs = Array.from({ length: RULES }, (_, r) => ({
  id: `bench-${r}`,
  name: `Bench ${r}`,
  condition: {
    kind: 'threshold',
    metric: BENCH_METRICS[r % 10]!,
    aggregation: 'last',
    window: '10s',
    op: '>',
    threshold: 1000,
  },
  selector: { labels: { group: `g${Math.floor(r / 10) % GROUPS}` } },
  severity: 'warning',
}));
const labelsOf = (d: number) => ({ group: `g${d % GROUPS}`, site: `s${d % 10}` });

function engineBench(): void {
  const ruleSet = new RuleSet();
  for (const r of ruleDefs) ruleSet.set(parseRule(r));
  const engine = new AlertEngine(ruleSet, { allowedLatenessMs: 5000 });
  const n = Number(values['engine-events']);
  const t0 = Date.UTC(2026, 0, 1);
  const inputs: EngineInput[] = [];
  for (let i = 0; i < Math.min(n, 1_000_000); i++) {
    const d = i % DEVICES;
    inputs.push({
      type: 'sample',
      deviceId: benchDeviceId(d),
      ts: t0 + Math.floor(i / DEVICES) * 100,
      metric: BENCH_METRICS[Math.floor(i / DEVICES) % 10]!,
      value: (i % 997) + (i % 100_003 === 0 ? 5000 : 0),
      quality: 'GOOD',
      labels: labelsOf(d),
    });
  }
  let transitions = 0;
  const started = process.cpuUsage();
  const wall = performance.now();
  for (let done = 0; done < n;) {
    for (const input of inputs) {
      if (done >= n) break;
      const shifted = { ...input, ts: input.ts + Math.floor(done / inputs.length) * 10_000_000 };
      transitions += engine.process(shifted).length;
      done++;
      if (done % 100_000 === 0) transitions += engine.advance(engine.watermark).length;
    }
  }
  const cpu = process.cpuUsage(started);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(
    `A. evaluator alone: ${n.toLocaleString()} samples, ${RULES} rules, ${DEVICES} devices, ${engine.size.toLocaleString()} rule x device instances, ${transitions} transitions\n` +
      `   ${Math.round(n / cpuS).toLocaleString()} events/s per core (CPU ${cpuS.toFixed(2)} s, wall ${((performance.now() - wall) / 1000).toFixed(2)} s)\n`,
  );
}

/** An HTTP receiver in its own process: answers at once, reports each request (arrival time, body) on stdout. */
const RECEIVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const at = Date.now();
    res.writeHead(200).end('ok');
    process.stdout.write(JSON.stringify({ at, body }) + '\\n');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
`;

async function receiverProcess(): Promise<{
  url: string;
  requests: Array<{ at: number; body: string }>;
  child: ChildProcess;
}> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const requests: Array<{ at: number; body: string }> = [];
  let rest = '';
  let resolvePort!: (port: number) => void;
  const port = new Promise<number>((r) => (resolvePort = r));
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const parsed = JSON.parse(line) as { port?: number; at?: number; body?: string };
      if (parsed.port !== undefined) resolvePort(parsed.port);
      else requests.push({ at: parsed.at!, body: parsed.body! });
    }
  });
  return { url: `http://127.0.0.1:${await port}`, requests, child };
}

/** The functions with the most self time in a V8 CPU profile (the alerting process's). */
function topSelfTime(dir: string, top = 15): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return '   (no CPU profile written)\n';
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(node_modules|libs|tools)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return (
    [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `   ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n') + `\n   (profile: ${join(dir, file)})\n`
  );
}

async function endToEnd(): Promise<void> {
  const backbone = await benchBackbone('bench-alerting', logger);
  const telemetry = await backbone.telemetryCodec();
  const dir = mkdtempSync(join(tmpdir(), 'sentio-bench-alerting-'));
  const webhook = await receiverProcess();
  const profDir = mkdtempSync(join(tmpdir(), 'sentio-bench-alerting-prof-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ rules: ruleDefs }));
  writeFileSync(
    join(dir, 'sentio.yaml'),
    stringify({
      alerting: {
        receivers: [{ name: 'hook', webhook: [{ url: `${webhook.url}/hook` }] }],
        route: {
          receiver: 'hook',
          groupBy: ['...'],
          groupWait: '0s',
          groupInterval: '1s',
          repeatInterval: '1h',
        },
      },
    }),
  );
  const groupId = `alerting-${backbone.namespace}`;
  const port = await freePort();
  const root = resolve(import.meta.dirname, '../..');
  const child = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
      '--import',
      '@swc-node/register/esm-register',
      join(root, 'tools/cli/src/main.ts'),
      'run',
      'alerting',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        SENTIO_NAMESPACE: backbone.namespace,
        SENTIO_HTTP_PORT: String(port),
        SENTIO_CONFIG_FILE: join(dir, 'sentio.yaml'),
        ALERTING_RULES_PATH: join(dir, 'rules.yaml'),
        ALERTING_GROUP_ID: groupId,
        SENTIO_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  // The child dies with this process, whatever happens below.
  process.on('exit', () => {
    child.kill('SIGKILL');
    webhook.child.kill('SIGKILL');
  });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
        components: Record<string, unknown>;
      };
      if (health.components['alerting-dispatcher']) break;
    } catch {
      // starting
    }
    if (Date.now() > deadline) throw new Error('alerting did not start');
    await new Promise((r) => setTimeout(r, 500));
  }
  const cpuBefore = await processCpuSeconds(child.pid!);
  const producer = new EventProducer(
    backbone.kafka,
    { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
    logger,
  );
  await producer.connect();
  // Which device fires when: its produce time, to time the notification against.
  const firedAt = new Map<string, number>();
  const faulted = new Set<number>();
  const progress = progressReporter(progressLog, 'alerting bench: producing', RATE * SECONDS);
  const started = performance.now();
  let produced = 0;
  let faultDevice = 0;
  const tick = 100; // ms: produce RATE/10 events per tick
  for (let step = 0; step < (SECONDS * 1000) / tick; step++) {
    const due = started + step * tick;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = Date.now();
    const messages: Message[] = [];
    const count = Math.round((RATE * tick) / 1000);
    for (let i = 0; i < count; i++) {
      const n = produced + i;
      const d = n % DEVICES;
      const metric = BENCH_METRICS[Math.floor(n / DEVICES) % 10]!;
      // A faulted device stays hot: its alert fires and stays firing (a flap inside group_wait is not notified).
      const hotNow = metric === 'temperature' && faulted.has(d);
      messages.push({
        key: benchDeviceId(d),
        value: telemetry.encode({
          eventId: `e${n}`,
          deviceId: benchDeviceId(d),
          timestampMs: now,
          metric,
          value: hotNow ? 5000 : n % 997,
          unit: null,
          quality: 'GOOD',
          labels: labelsOf(d),
          source: 'bench',
        }),
      });
    }
    // Ten devices a second cross their threshold (every metric of a device has a rule watching it).
    if (step % 2 === 0 && step > 10) {
      for (let k = 0; k < 2 && faultDevice < DEVICES; k++, faultDevice++) {
        const d = (faultDevice * 7919) % DEVICES;
        firedAt.set(benchDeviceId(d), Date.now());
        faulted.add(d);
        messages.push({
          key: benchDeviceId(d),
          value: telemetry.encode({
            eventId: `f${d}`,
            deviceId: benchDeviceId(d),
            timestampMs: now,
            metric: 'temperature',
            value: 5000,
            unit: null,
            quality: 'GOOD',
            labels: labelsOf(d),
            source: 'bench',
          }),
        });
      }
    }
    void producer
      .send(backbone.topics.telemetry, messages)
      .catch((error: unknown) => logger.error({ err: error }, 'produce failed'));
    produced += count;
    progress.advance(count);
  }
  await producer.flush();
  const produceS = (performance.now() - started) / 1000;
  progress.done();
  // Caught up: the group has committed (transactionally) everything produced.
  const lagAtEnd = await consumerLag(backbone.kafka, groupId, backbone.topics.telemetry);
  const waitFrom = performance.now();
  while ((await consumerLag(backbone.kafka, groupId, backbone.topics.telemetry)) > 0) {
    if (performance.now() - waitFrom > 300_000) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const caughtUpS = (performance.now() - waitFrom) / 1000;
  // Notifications still on their way: wait until every fault has been notified (or a minute has passed).
  const notifyDeadline = Date.now() + 60_000;
  while (Date.now() < notifyDeadline && !allNotified()) await new Promise((r) => setTimeout(r, 250));
  const cpuS = (await processCpuSeconds(child.pid!)) - cpuBefore;
  const latencies: number[] = [];
  function allNotified(): boolean {
    const seen = new Set(
      webhook.requests.flatMap((r) =>
        (JSON.parse(r.body) as { alerts: Array<{ labels: Record<string, string> }> }).alerts.map(
          (a) => a.labels['device'],
        ),
      ),
    );
    return [...firedAt.keys()].every((d) => seen.has(d));
  }
  for (const req of webhook.requests) {
    const body = JSON.parse(req.body) as {
      alerts: Array<{ labels: Record<string, string>; status: string }>;
    };
    for (const a of body.alerts) {
      const at = firedAt.get(a.labels['device'] ?? '');
      if (at === undefined || a.status !== 'firing') continue;
      latencies.push(req.at - at);
      firedAt.delete(a.labels['device']!);
    }
  }
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `B. end to end: offered ${RATE.toLocaleString()} events/s; ${produced.toLocaleString()} events produced in ${produceS.toFixed(1)} s (achieved ${Math.round(produced / produceS).toLocaleString()}/s), ${RULES} rules, ${DEVICES} devices\n` +
      `   alerting process: ${cpuS.toFixed(1)} CPU s -> ${Math.round(produced / cpuS).toLocaleString()} events/s per core; lag when producing stopped ${lagAtEnd.toLocaleString()}, caught up ${caughtUpS.toFixed(1)} s later\n` +
      `   event -> notification (${latencies.length} alerts, ${firedAt.size} not notified): p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms\n`,
  );
  child.kill('SIGTERM');
  await once(child, 'exit');
  if (values['cpu-prof']) process.stdout.write(`   alerting process, self time:\n${topSelfTime(profDir)}`);
  await producer.disconnect();
  webhook.child.kill('SIGTERM');
}

engineBench();
await endToEnd();
process.exit(0);
