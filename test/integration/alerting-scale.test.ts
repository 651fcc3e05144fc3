import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetrySample } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { alertRecords, until } from './alerting-support.js';
import { sandbox, telemetryProducer, type Sandbox } from './support/backbone.js';
import { expectReplicatedThrice, KafkaCluster, replication } from './support/kafka-cluster.js';
import { PlatformProcess } from './support/platform-process.js';

/**
 * The webhook receiver runs in a process of its own: this test process is busy producing, and a receiver
 * that answers late makes the notifier give up (its retries end at the group interval's deadline).
 */
const RECEIVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.writeHead(200).end('ok');
    process.stdout.write(JSON.stringify({ key: req.headers['idempotency-key'], body }) + '\\n');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
`;

class ReceiverProcess {
  readonly requests: Array<{ key: string; body: string }> = [];
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<ReceiverProcess> {
    const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    let receiver: ReceiverProcess | undefined;
    let rest = '';
    return new Promise((resolve) =>
      child.stdout!.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          const parsed = JSON.parse(line) as { port?: number; key?: string; body?: string };
          if (parsed.port !== undefined) {
            receiver = new ReceiverProcess(child, `http://127.0.0.1:${parsed.port}`);
            resolve(receiver);
          } else receiver?.requests.push({ key: parsed.key!, body: parsed.body! });
        }
      }),
    );
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

/**
 * Alerting scaled out: several `sentio run alerting` processes in one consumer group evaluate a fleet while
 * members are added and SIGKILLed under load (the dispatching leader among them), and a broker is SIGKILLed
 * and restarted. Each watched device goes
 * through four hot phases, staggered so that at every membership change some alerts are pending and some
 * firing on the partitions that move. Asserted on the alerts topic (read committed) and on a real webhook
 * receiver: every device's transitions are exactly the expected chain (nothing lost, nothing repeated, a
 * moved pending or firing alert continues where it was), and every firing and resolved notification reaches
 * the receiver under exactly one idempotency key (a request repeated with the same key, cut off by a kill
 * mid-send, is the one allowed repeat: the receiver sees one notification).
 *
 * Runs on a three-broker KRaft cluster of its own (tools/kafka/cluster.sh: replication factor 3,
 * min.insync.replicas 2).
 */
const WATCHED = 90;
const LOAD = 2_000;
const STEPS = 320; // seconds of event time with hot phases, then a cold tail
const TAIL = 15;
const STEP_MS = 750; // wall time per second of event time
const FOR_S = 10;

/**
 * Device d is hot when (s + offset) mod 80 is in [20, 70): 50 s phases (firing for 40 s, 30 s of wall time,
 * longer than a dispatcher handover, which took up to 15 s on the cluster with a broker's death: an alert
 * that fired and resolved entirely while no member dispatched is not notified, as in Alertmanager),
 * starting cold, ending cold.
 */
const offset = (d: number) => 70 + (d % 10);
const hot = (d: number, s: number) => s < STEPS && (s + offset(d)) % 80 >= 20 && (s + offset(d)) % 80 < 70;
const watched = (d: number) => `hot-${String(d).padStart(3, '0')}`;

/** The expected transition chain of one device, from the pattern (every phase is longer than `for`). */
function expectedChain(d: number): string[] {
  const chain: string[] = [];
  let status = 'INACTIVE';
  let since = 0;
  for (let s = 0; s < STEPS + TAIL; s++) {
    const isHot = hot(d, s);
    if (isHot && status !== 'PENDING' && status !== 'FIRING') {
      chain.push(`${status}>PENDING`);
      status = 'PENDING';
      since = s;
    } else if (isHot && status === 'PENDING' && s - since >= FOR_S) {
      chain.push('PENDING>FIRING');
      status = 'FIRING';
    } else if (!isHot && (status === 'PENDING' || status === 'FIRING')) {
      chain.push(`${status}>${status === 'FIRING' ? 'RESOLVED' : 'INACTIVE'}`);
      status = status === 'FIRING' ? 'RESOLVED' : 'INACTIVE';
    }
  }
  return chain;
}

interface Hook {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string>; startsAt: string }>;
}

describe('alerting scaled out by consumer group: members added and SIGKILLed under load', () => {
  const members: PlatformProcess[] = [];
  let cluster: KafkaCluster;
  let box: Sandbox;
  let webhook: ReceiverProcess;
  let env: Record<string, string>;
  let dir: string;

  const start = async () => {
    // As scale-ingest's members: on this shared 2-core machine, with three brokers beside it, a process can
    // take two minutes to answer /health.
    const member = await PlatformProcess.start('alerting', env, 'alerting-dispatcher', 240_000);
    members.push(member);
    return member;
  };
  const alive = () => members.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
  const health = async (m: PlatformProcess) =>
    (await (await fetch(`${m.baseUrl}/health`)).json()) as {
      components: Record<string, { detail?: { leader?: boolean; partitions?: number[] } }>;
    };
  const leader = async () => {
    for (const m of alive())
      if ((await health(m).catch(() => undefined))?.components['alerting-dispatcher']?.detail?.leader)
        return m;
    return undefined;
  };
  const kill = async (m: PlatformProcess) => {
    m.child.kill('SIGKILL');
    await m.exited();
  };

  beforeAll(async () => {
    cluster = await KafkaCluster.start('alerting-scale');
    box = await sandbox('alerting_scale');
    webhook = await ReceiverProcess.start();
    dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-scale-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      stringify({
        rules: [
          {
            id: 'hot',
            name: 'Hot',
            condition: {
              kind: 'threshold',
              metric: 'bearing_temperature',
              aggregation: 'last',
              window: '5s',
              threshold: 80,
            },
            selector: { labels: { watched: 'yes' } },
            for: `${FOR_S}s`,
            flapping: { window: '10s', maxTransitions: 1000 },
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'sentio.yaml'),
      stringify({
        alerting: {
          receivers: [{ name: 'hook', webhook: [{ url: `${webhook.url}/hook` }] }],
          route: {
            receiver: 'hook',
            groupBy: ['alertname', 'device'],
            groupWait: '0s',
            groupInterval: '1s',
            repeatInterval: '1h',
          },
        },
      }),
    );
    env = {
      ...box.env,
      SENTIO_CONFIG_FILE: join(dir, 'sentio.yaml'),
      ALERTING_RULES_PATH: join(dir, 'rules.yaml'),
      ALERTING_GROUP_ID: `alerting-${box.namespace}`,
      // Event time moves only with the data, so the expected chains do not depend on scheduling.
      ALERTING_IDLE_ADVANCE_MS: '600000',
      // A killed member's partitions (and the dispatch leadership) move once its session times out.
      KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    };
    await Promise.all([start(), start()]);
  }, 900_000);

  afterAll(async () => {
    for (const m of alive()) await m.stop();
    if (process.env['SENTIO_TEST_KEEP_LOGS'])
      members.forEach((m, i) =>
        writeFileSync(join(process.env['SENTIO_TEST_KEEP_LOGS']!, `member-${i}.log`), m.log),
      );
    if (process.env['SENTIO_TEST_KEEP_LOGS'])
      writeFileSync(
        join(process.env['SENTIO_TEST_KEEP_LOGS'], 'webhook.json'),
        JSON.stringify(webhook.requests.map((r) => ({ key: r.key, body: JSON.parse(r.body) as unknown }))),
      );
    webhook?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await cluster?.stop();
  }, 180_000);

  it('runs on three brokers: every topic partition has three replicas, min.insync.replicas 2', () =>
    expectReplicatedThrice(box.kafka, [box.topics.telemetry, box.topics.alerts], box.kafkaConfig.partitions));

  it('keeps every transition exactly once and notifies each once, across joins and SIGKILLs', async () => {
    const { codec, send } = await telemetryProducer(box);
    // Event time in the recent past (the dispatcher forgets resolved alerts an hour after they end).
    const t0 = Date.now() - 600_000;
    const sample = (deviceId: string, s: number, value: number, labels: Record<string, string>) => ({
      key: deviceId,
      value: codec.encode({
        eventId: `${deviceId}-${s}`,
        deviceId,
        timestampMs: t0 + s * 1000,
        metric: 'bearing_temperature',
        value,
        unit: null,
        quality: 'GOOD',
        labels,
        source: 'test',
      } satisfies TelemetrySample),
    });
    const events: string[] = [];
    let joining: Promise<unknown> = Promise.resolve();
    let restarting: Promise<unknown> = Promise.resolve();
    let brokerKilled = 0;
    let produced = 0;
    let began = Date.now();
    for (let s = 0; s < STEPS + TAIL; s++) {
      const messages = [];
      for (let d = 0; d < WATCHED; d++)
        messages.push(sample(watched(d), s, hot(d, s) ? 100 : 20, { watched: 'yes' }));
      for (let d = 0; d < LOAD; d++) messages.push(sample(`load-${d}`, s, 20 + (d % 7), { watched: 'no' }));
      await send(messages);
      produced += messages.length;
      // Membership changes while the stream runs: a member joins; once it has, a member that does not
      // dispatch is SIGKILLed, then a broker (it comes back 20 steps later, see KafkaCluster.victim), then
      // the dispatching leader; then a member joins again.
      if (s === 40) joining = start().then(() => events.push(`s${s}+: third member joined`));
      if (s === 100) {
        // Waiting for the join (or a kill) pauses the stream's clock too (below): event time keeps its pace.
        await joining;
        const l = await leader();
        const victim = alive().find((m) => m !== l)!;
        await kill(victim);
        events.push(`s${s}: a member SIGKILLed`);
      }
      if (s === 115) {
        brokerKilled = await cluster.victim(box.kafka, env['ALERTING_GROUP_ID']!);
        const led = (await replication(box.kafka, box.topics.telemetry)).leaders;
        await cluster.stopNode(brokerKilled, 'KILL');
        events.push(
          `s${s}: broker ${brokerKilled} SIGKILLed (leader of ${led.filter((l) => l === brokerKilled).length} telemetry partitions)`,
        );
      }
      if (s === 135) {
        restarting = cluster.startNode(brokerKilled).then(() => cluster.waitReady());
        events.push(`s${s}: broker ${brokerKilled} restarted`);
      }
      if (s === 150) {
        // Two faults, not one compound outage: the broker is back before the leader dies (while it was
        // away, the alerts' reads and partition 0's transactions stalled for several seconds, and a
        // leader killed then left alerts firing and resolving with no dispatcher for longer than a phase).
        await restarting;
        const l = await leader();
        expect(l, 'a dispatching leader').toBeDefined();
        await kill(l!);
        events.push(`s${s}: the dispatching leader SIGKILLed`);
      }
      if (s === 180) joining = start().then(() => events.push(`s${s}+: a member joined again`));
      const due = began + (s + 1) * STEP_MS;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      // A step held up (a join or a kill waited for, a send held up by a broker's death) delays the clock
      // rather than compressing the steps after it.
      else began += Date.now() - due;
    }
    await joining;
    await restarting;
    const wallS = (Date.now() - began) / 1000;
    console.log(
      `alerting-scale: ${produced} events in ${wallS.toFixed(1)} s (${Math.round(produced / wallS)}/s); ${events.join('; ')}`,
    );

    // The alerts topic: each device's chain exactly as expected.
    const expected = new Map(Array.from({ length: WATCHED }, (_, d) => [watched(d), expectedChain(d)]));
    const expectedTotal = [...expected.values()].reduce((n, c) => n + c.length, 0);
    const chains = async () => {
      const byDevice = new Map<string, Array<{ seq: number; t: string; id: string; at: string }>>();
      for (const { event: e, partition, offset } of await alertRecords(box)) {
        if (e.ruleId !== 'hot') continue;
        const device = String(e.deviceId);
        const list = byDevice.get(device) ?? [];
        list.push({
          seq: Number(e.sequence),
          t: `${e.previousStatus}>${e.status}`,
          id: String(e.eventId),
          at: `${partition}:${offset}`,
        });
        byDevice.set(device, list);
      }
      return byDevice;
    };
    const settled = await until(
      'every expected transition on the alerts topic',
      async () => {
        const byDevice = await chains();
        const total = [...byDevice.values()].reduce((n, l) => n + l.length, 0);
        return total >= expectedTotal ? byDevice : undefined;
      },
      180_000,
    );
    await new Promise((r) => setTimeout(r, 3000)); // anything repeated late would show now
    const final = await chains();
    expect([...final.values()].reduce((n, l) => n + l.length, 0)).toBe(
      [...settled.values()].reduce((n, l) => n + l.length, 0),
    );
    for (const [device, chain] of expected) {
      const got = (final.get(device) ?? []).sort((a, b) => a.seq - b.seq);
      // Where each copy is stored (partition:offset) says which transaction wrote it twice.
      expect(
        new Set(got.map((g) => g.id)).size,
        `${device}: no event twice: ${got.map((g) => `${g.seq} ${g.t} ${g.id.slice(0, 8)} @${g.at}`).join(', ')}`,
      ).toBe(got.length);
      expect(
        got.map((g) => g.seq),
        `${device}: sequences`,
      ).toEqual(got.map((_, i) => got[0]!.seq + i));
      expect(
        got.map((g) => g.t),
        `${device}: transitions`,
      ).toEqual(chain);
    }

    // The webhook: one firing and one resolved notification per phase, each under one idempotency key.
    const phases = [...expected.values()].reduce(
      (n, c) => n + c.filter((t) => t === 'PENDING>FIRING').length,
      0,
    );
    const notified = () => {
      const byKey = new Map<string, string>();
      for (const r of webhook.requests) {
        const key = r.key;
        const previous = byKey.get(key);
        if (previous !== undefined) expect(r.body, 'same key, same notification').toBe(previous);
        byKey.set(key, r.body);
      }
      const seen = new Map<string, string[]>();
      for (const [key, body] of byKey) {
        const hook = JSON.parse(body) as Hook;
        for (const a of hook.alerts) {
          const id = `${a.labels['device']}|${a.status}|${a.startsAt}`;
          seen.set(id, [...(seen.get(id) ?? []), key]);
        }
      }
      return seen;
    };
    const seen = await until(
      'a firing and a resolved notification for every phase',
      () => {
        const s = notified();
        return s.size >= phases * 2 ? s : undefined;
      },
      120_000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const again = notified();
    expect(again.size).toBe(seen.size);
    expect(again.size).toBe(phases * 2);
    for (const [id, keys] of again) expect(keys, `${id}: notified under one key`).toHaveLength(1);
    const repeats = webhook.requests.length - new Set(webhook.requests.map((r) => r.key)).size;
    console.log(
      `alerting-scale: ${expectedTotal} transitions, ${phases * 2} notifications, ${repeats} same-key re-sends`,
    );
    // The moved partitions were restored with their alerts on the members that took them over.
    const restoredWithState = members
      .map((m) => m.log)
      .join('\n')
      .split('\n')
      .filter((line) => line.includes('partition state restored'))
      .some((line) => /"restored":\[[^\]]*[1-9]/.test(line));
    expect(restoredWithState).toBe(true);
  }, 900_000);
});
