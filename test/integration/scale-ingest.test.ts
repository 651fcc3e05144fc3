import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { ClickHouseStore, clickHouseConfigSection } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type { EventCodec } from '@sentio/avro';
import type { TelemetrySample } from '@sentio/events';
import { consumerLag } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logger,
  sandbox,
  telemetry,
  telemetryProducer,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { freeBase } from './support/kafka-cluster.js';
import { freePort, repoRoot } from './support/platform-process.js';

const run = promisify(execFile);
const cluster = join(repoRoot, 'tools/kafka/cluster.sh');
const swc = ['--enable-source-maps', '--import', '@swc-node/register/esm-register'];

/** Per (device, metric, bucket start in s): what the rollups must hold, aggregated by the test from Kafka. */
type Expected = Map<string, { count: number; sum: number; min: number; max: number }>;

function aggregate(into: Expected, key: string, value: number): void {
  const a = into.get(key);
  if (!a) into.set(key, { count: 1, sum: value, min: value, max: value });
  else {
    a.count++;
    a.sum += value;
    a.min = Math.min(a.min, value);
    a.max = Math.max(a.max, value);
  }
}

/**
 * Ingest scaled out by its consumer group, on a three-broker KRaft cluster (tools/kafka/cluster.sh,
 * replication factor 3, min.insync.replicas 2), every member writing to ONE ClickHouse engine: chdb behind
 * tools/chdb-http (a thin HTTP front serving ClickHouse's HTTP interface to @clickhouse/client; the engine is
 * ClickHouse 26.7, the front is not a ClickHouse server). Members join, are SIGKILLed mid-flush (one between
 * an insert and its commit, by fault injection; one at an arbitrary moment) and leave gracefully while
 * records stream in, and a broker is killed on the way. Every record in the topic must be stored exactly
 * once, and the rollups must equal an aggregation of the records' values computed here, independently.
 */
describe('ingest scaled out by consumer group over one shared ClickHouse engine', () => {
  const env = {
    SENTIO_STATE_DIR: '',
    SENTIO_KAFKA_CLUSTER_PORT: '',
  };
  const folders: string[] = [];
  const members: Member[] = [];
  let front: ChildProcess | undefined;
  let url = '';
  let box: Sandbox;
  let produced = 0;

  beforeAll(async () => {
    env.SENTIO_STATE_DIR = mkdtempSync(join(tmpdir(), 'sentio-scale-kafka-'));
    env.SENTIO_KAFKA_CLUSTER_PORT = String(await freeBase());
    const folder = mkdtempSync(join(tmpdir(), 'sentio-scale-chdb-'));
    folders.push(folder);
    front = spawn(
      process.execPath,
      [...swc, 'tools/chdb-http/chdb-http.ts', '--path', folder, '--port', '0'],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const [line] = (await once(createInterface({ input: front.stdout! }), 'line')) as [string];
    url = line.trim();
    await run(cluster, ['start'], { env: { ...process.env, ...env }, timeout: 240_000 });
    const { stdout } = await run(cluster, ['bootstrap'], { env: { ...process.env, ...env } });
    // The sandbox and every process started below use the cluster, with topics replicated three times.
    process.env['KAFKA_BROKERS'] = stdout.trim();
    process.env['KAFKA_REPLICATION_FACTOR'] = '3';
    process.env['KAFKA_PARTITIONS'] = '6';
    box = await sandbox('scale_ingest');
  }, 300_000);

  afterAll(async () => {
    for (const m of members) m.kill();
    await run(cluster, ['stop'], { env: { ...process.env, ...env }, timeout: 120_000 }).catch(
      () => undefined,
    );
    if (front && front.exitCode === null) {
      front.kill('SIGTERM');
      await once(front, 'exit');
    }
    if (env.SENTIO_STATE_DIR) rmSync(env.SENTIO_STATE_DIR, { recursive: true, force: true });
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    if (box) rmSync(box.clickhousePath, { recursive: true, force: true });
  }, 150_000);

  it('creates the topics with three replicas on three brokers', async () => {
    const admin = box.kafka.admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      expect(brokers).toHaveLength(3);
      const [topic] = (await admin.fetchTopicMetadata({ topics: [box.topics.telemetry] })).topics;
      expect(topic!.partitions).toHaveLength(6);
      for (const p of topic!.partitions) expect(p.replicas).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('members joining, SIGKILLed mid-flush and leaving, and a broker killed, store every event once', async () => {
    const { codec, producer, send } = await telemetryProducer(box);
    let producing = true;
    // A steady stream (~5k events/s in 500-event sends) for the whole scenario: every rebalance happens
    // while members have cycles in flight.
    const stream = (async () => {
      for (let chunk = 0; producing; chunk++) {
        const samples = telemetry(500, 200, Date.now() - 3_600_000 + chunk * 2_500).map((s, i) => ({
          ...s,
          eventId: `c${chunk}-${i}`,
        }));
        await send(samples.map((s) => ({ key: s.deviceId, value: codec.encode(s) })));
        produced += samples.length;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const member = (name: string, extra: Record<string, string> = {}, waitHealthy = true) =>
      Member.start(
        members,
        name,
        {
          ...box.env,
          CLICKHOUSE_URL: url,
          INGEST_FLUSH_INTERVAL_MS: '100',
          INGEST_MAX_BATCH_RECORDS: '2000',
          KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '10000',
          SENTIO_LOG_LEVEL: process.env['SENTIO_SCALE_LOG_LEVEL'] ?? 'info',
          ...extra,
        },
        waitHealthy,
      );
    const groupSize = async () => {
      const admin = box.kafka.admin();
      await admin.connect();
      try {
        const { groups } = await admin.describeGroups([box.env['INGEST_GROUP_ID']!]);
        return groups[0]!.members.length;
      } finally {
        await admin.disconnect();
      }
    };
    const waitGroup = async (size: number) => {
      for (const deadline = Date.now() + 120_000; (await groupSize()) !== size;) {
        if (Date.now() > deadline) throw new Error(`the group never had ${size} members`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const settle = (ms = 3_000) => new Promise((r) => setTimeout(r, ms));

    // a migrates the shared database; the others start together.
    const a = await member('a');
    await settle();
    // d dies (SIGKILL, by fault injection) between an insert and its commit, mid-flush: the range it wrote
    // ahead and inserted is repeated by the partition's next owner, whose insert the engine drops.
    const [b, c, d] = await Promise.all([
      member('b'),
      member('c'),
      member('d', { SENTIO_FAULT_CRASH_AFTER_INSERTS: '20' }, false),
    ]);
    expect(await d.exited()).toBe('SIGKILL');
    await waitGroup(3);
    await settle();
    // b is SIGKILLed at an arbitrary moment: with 100 ms flushes under load, cycles are in flight.
    b.kill();
    const e = await member('e');
    await waitGroup(3);
    await settle();
    // A broker dies under load: its partitions' leaders move to the other two, which still make the
    // min.insync.replicas of 2; it comes back and catches up while the members keep consuming.
    await run(cluster, ['stop-node', '2', 'KILL'], { env: { ...process.env, ...env } });
    await settle(5_000);
    await run(cluster, ['start-node', '2'], { env: { ...process.env, ...env } });
    await run(cluster, ['wait', '180'], { env: { ...process.env, ...env }, timeout: 200_000 });
    // a leaves with its buffers flushing (SIGTERM: insert what is buffered, commit, leave).
    expect(await a.stop()).toBe(0);
    await settle();
    producing = false;
    await stream;
    await producer.disconnect();
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry, 180_000);
    expect(await consumerLag(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry)).toBe(0);
    // The work was really shared: the members alive at the end both stored part of the stream.
    for (const m of [c, e]) expect(await m.rowsInserted()).toBeGreaterThan(0);
    expect(await c.stop()).toBe(0);
    expect(await e.stop()).toBe(0);
    // The SIGKILLed members' written-ahead, uncommitted ranges were repeated by the next owners.
    expect(members.some((m) => m.logged('repeating a written-ahead cycle'))).toBe(true);

    // What the topic holds, read back independently: the ground truth of exactly once is the records in
    // Kafka (each stored once), and the rollups must equal this aggregation of their values.
    const topic = await readTopic(box, codec);
    const store = ClickHouseStore.open(
      loadConfig([clickHouseConfigSection], { env: { ...box.env, CLICKHOUSE_URL: url } }).clickhouse,
      logger,
    );
    try {
      const stored = new Map(
        (
          await store.query<{ e: string; n: string }>(
            `SELECT event_id AS e, count() AS n FROM ${store.table('metrics')} GROUP BY e`,
          )
        ).map((r) => [r.e, Number(r.n)]),
      );
      const wrong: string[] = [];
      for (const [event, n] of topic.events) {
        if (stored.get(event) !== n) wrong.push(`${event}: ${stored.get(event) ?? 0} stored, ${n} in Kafka`);
      }
      for (const event of stored.keys()) if (!topic.events.has(event)) wrong.push(`${event}: not in Kafka`);
      const rows = [...stored.values()].reduce((a, b) => a + b, 0);
      expect({ rows, wrong: wrong.slice(0, 5) }).toEqual({ rows: topic.records, wrong: [] });
      // What the producer was asked to send against what Kafka holds (a property of the producer, not of
      // ingest; reported, see README "Running at scale").
      const events = topic.events.size;
      if (events !== produced || topic.records !== produced) {
        logger.warn(
          { produced, recordsInKafka: topic.records, distinctEvents: events },
          'producer differs from Kafka',
        );
      }
      expect(events).toBeGreaterThan(produced * 0.99);
      for (const [table, expected] of [
        ['metrics_1m', topic.minutes],
        ['metrics_1h', topic.hours],
      ] as const) {
        const buckets = await store.query<{
          device_id: string;
          metric: string;
          ts: string;
          count: string;
          sum: number;
          min: number;
          max: number;
        }>(
          `SELECT device_id, metric, toUnixTimestamp(ts) AS ts, countMerge(count) AS count,
                  sumMerge(sum_value) AS sum, minMerge(min_value) AS min, maxMerge(max_value) AS max
           FROM ${store.table(table)} GROUP BY device_id, metric, ts`,
        );
        expect({ table, buckets: buckets.length }).toEqual({ table, buckets: expected.size });
        const off = buckets.filter((r) => {
          const want = expected.get(`${r.device_id}|${r.metric}|${r.ts}`);
          return (
            !want ||
            Number(r.count) !== want.count ||
            Math.abs(r.sum - want.sum) > 1e-6 * Math.max(1, Math.abs(want.sum)) ||
            r.min !== want.min ||
            r.max !== want.max
          );
        });
        expect({ table, off: off.slice(0, 3) }).toEqual({ table, off: [] });
      }
    } finally {
      await store.close();
    }
  }, 900_000);
});

/** Every record of the sandbox's telemetry topic, read by a throwaway group: event counts and rollups. */
async function readTopic(
  box: Sandbox,
  codec: EventCodec<TelemetrySample>,
): Promise<{ records: number; events: Map<string, number>; minutes: Expected; hours: Expected }> {
  const admin = box.kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(box.topics.telemetry)).map((o) => [o.partition, BigInt(o.high)]),
  );
  await admin.disconnect();
  const events = new Map<string, number>();
  const minutes: Expected = new Map();
  const hours: Expected = new Map();
  let records = 0;
  const consumer = box.kafka.consumer({ groupId: `scale-ingest-check-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [box.topics.telemetry], fromBeginning: true });
  const done = new Set([...ends].filter(([, end]) => end === 0n).map(([p]) => p));
  await new Promise<void>((resolve, reject) => {
    if (done.size === ends.size) resolve();
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          await codec.prepare(batch.messages.map((m) => m.value));
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= ends.get(batch.partition)!) break;
            const decoded = codec.decode(m.value);
            if (!decoded.ok) throw new Error(`undecodable record at ${batch.partition}:${m.offset}`);
            const { eventId, deviceId, metric, timestampMs, value } = decoded.value;
            records++;
            events.set(eventId, (events.get(eventId) ?? 0) + 1);
            if (value === null) continue; // the rollups skip samples without a value
            aggregate(minutes, `${deviceId}|${metric}|${Math.floor(timestampMs / 60_000) * 60}`, value);
            aggregate(hours, `${deviceId}|${metric}|${Math.floor(timestampMs / 3_600_000) * 3600}`, value);
            if (BigInt(m.offset) + 1n >= ends.get(batch.partition)!) done.add(batch.partition);
          }
          if (done.size === ends.size) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { records, events, minutes, hours };
}

/**
 * `sentio run ingest` as operators start it. Its own start deadline: on this shared 2-core machine a
 * process that loads every component can take over a minute to answer /health.
 */
class Member {
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly log: string[],
    private readonly port: number,
  ) {}

  static async start(
    members: Member[],
    name: string,
    env: Record<string, string>,
    waitHealthy: boolean,
  ): Promise<Member> {
    const port = await freePort();
    const child = spawn(process.execPath, [...swc, 'tools/cli/src/main.ts', 'run', 'ingest'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, SENTIO_HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    const dir = process.env['SENTIO_SCALE_LOG_DIR'];
    if (dir) {
      const file = createWriteStream(join(dir, `${name}.log`));
      child.stdout!.pipe(file);
      child.stderr!.pipe(file);
    }
    const member = new Member(name, child, log, port);
    members.push(member);
    if (!waitHealthy) return member;
    for (const deadline = Date.now() + 240_000; ;) {
      if (child.exitCode !== null)
        throw new Error(`ingest ${name} exited ${child.exitCode}: ${log.join('').slice(-3000)}`);
      const health = await fetch(`http://127.0.0.1:${port}/health`)
        .then((r) => (r.ok ? (r.json() as Promise<{ components: Record<string, unknown> }>) : undefined))
        .catch(() => undefined);
      if (health?.components['ingest']) return member;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`ingest ${name} not healthy in 240 s: ${log.join('').slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Resolves with the exit code or signal once the process is gone (within 5 min). */
  async exited(): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await Promise.race([once(this.child, 'exit'), new Promise((r) => setTimeout(r, 300_000))]);
    }
    return this.child.exitCode ?? this.child.signalCode ?? 'running';
  }

  logged(text: string): boolean {
    return this.log.join('').includes(text);
  }

  /** `sentio_ingest_rows_total` of the metrics table from the member's /metrics. */
  async rowsInserted(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('sentio_ingest_rows_total{table="metrics"}'));
    return Number(line?.split(' ').at(-1) ?? 0);
  }

  /** SIGTERM: the sink inserts what it buffers, commits and leaves the group; resolves with the exit code. */
  async stop(): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
    return this.child.exitCode ?? this.child.signalCode!;
  }
}
