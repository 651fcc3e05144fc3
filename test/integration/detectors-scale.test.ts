/**
 * Detectors scale out by their consumer group: real `sentio run detectors` processes share the telemetry
 * partitions under a steady load while a member joins, a broker is SIGKILLed and restarted, and a member is
 * SIGKILLed; every window of every device must be scored exactly once. The test runs on a three-broker
 * KRaft cluster of its own (replication factor 3, min.insync.replicas 2).
 *
 * A window is one device's `windowLength` consecutive `stepMs` rows in event time, named by the device and
 * its end (`windowEndMs`, a multiple of `stepMs`); it is scored by whichever process reads, after the last
 * commit, the record that closes its newest step. Each device here has a stored autoencoder whose
 * threshold is below any score, so every scored window becomes one `window-ae:<device>` anomaly: the
 * anomalies topic is the per-window score log.
 *
 * A member that dies keeps the windows it scored after its last commit in the topic; the partition's new
 * owner scores them again from the same rebuilt state, under the same anomaly id (model, version, window
 * end), and the `anomalies` table keeps one row per id (ReplacingMergeTree ordered by device, time, model
 * and event id). So the topic may repeat a window only with the same id and the same score, and the set of
 * ids must be exactly the set of windows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import {
  detectorsConfigSection,
  DeviceStream,
  initTfBackend,
  ModelStore,
  trainDeviceModel,
} from '@sentio/detectors';
import { eventStreams, type Anomaly, type TelemetrySample } from '@sentio/events';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, sandbox, telemetryProducer, waitCaughtUp, type Sandbox } from './support/backbone.js';
import { expectReplicatedThrice, KafkaCluster, replication } from './support/kafka-cluster.js';
import { PlatformProcess } from './support/platform-process.js';

const DEVICES = Array.from({ length: 24 }, (_, i) => `scale-${String(i).padStart(2, '0')}`);
const METRICS = ['a', 'b', 'c'];
const STEP_MS = 1000;
const WINDOW = 10;
/** Event time runs 20x faster than the wall clock: one step of every device every 50 ms. */
const SEND_EVERY_MS = 50;
const SESSION_TIMEOUT_MS = 6000;
const T0 = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;

const value = (d: number, m: number, t: number) =>
  20 + 5 * Math.sin(t / 90_000 + d + m) + Math.sin(d * 7919 + m * 104_729 + t / 1000) * 0.3;

describe('detectors: several processes in one group, a member added, a broker and a member killed under load', () => {
  let cluster: KafkaCluster;
  let box: Sandbox;
  let dir: string;
  let env: Record<string, string>;
  const members: PlatformProcess[] = [];
  let anomalies: Anomaly[];
  let lastStepMs: number;
  let joined: PlatformProcess;
  let killed: PlatformProcess;
  let survivors: PlatformProcess[];
  let brokerKilled: number;
  let ledByKilled: number;
  /** What happened at which step sent: a window missed or repeated is placed against it in the report. */
  const timeline: string[] = [];

  beforeAll(async () => {
    cluster = await KafkaCluster.start('detectors-scale');
    box = await sandbox('detectors_scale');
    dir = mkdtempSync(join(tmpdir(), 'sentio-detectors-scale-'));
    const configFile = join(dir, 'sentio.yaml');
    writeFileSync(
      configFile,
      [
        'detectors:',
        `  groupId: detectors-${box.namespace}`,
        `  modelDir: ${join(dir, 'models')}`,
        `  metrics: [${METRICS.join(', ')}]`,
        `  stepMs: ${STEP_MS}`,
        `  windowLength: ${WINDOW}`,
        // Raw levels: a window re-scored after a takeover then has exactly the first owner's input, which
        // the test checks score for score (the moving baseline is rebuilt from rebuildMs of records only).
        '  baselineTauRows: 0',
        // rebuildMs is log (wall) time: at full pace three seconds are 60 steps, but on a loaded machine the
        // producer fell behind, 3 s held 10-15 steps and rebuilt no window (a 00:35 UTC run: the new owner
        // missed 9 windows per device). 30 s cover a window, the lateness and the longest filled gap.
        '  rebuildMs: 30000',
        '  modelCheckMs: 0',
      ].join('\n'),
    );
    env = {
      ...box.env,
      SENTIO_CONFIG_FILE: configFile,
      KAFKA_CONSUMER_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    };
    await storeModels(join(dir, 'models'), configFile);

    const { codec, producer, send } = await telemetryProducer(box);
    members.push(await start(env), await start(env));
    let step = 0;
    let sending = true;
    const sent = (async () => {
      while (sending) {
        const t = T0 + step * STEP_MS;
        await send(
          DEVICES.flatMap((id, d) =>
            METRICS.map((metric, m) => ({
              key: id,
              value: codec.encode(sample(id, metric, t, value(d, m, t))),
            })),
          ),
        );
        step++;
        await new Promise((r) => setTimeout(r, SEND_EVERY_MS));
      }
    })();
    const rebuiltOn = async (p: PlatformProcess, count: number) =>
      p.waitFor(async () => rebuilt(p).filter((r) => r.records > 0).length >= count, 60_000);

    await new Promise((r) => setTimeout(r, 8000));
    timeline.push(`step ${step}: third member starting`);
    joined = await start(env);
    members.push(joined);
    await rebuiltOn(joined, 1);
    await new Promise((r) => setTimeout(r, 6000));

    // A broker dies while all three score (its partitions' leaders move to the other two, which still make
    // min.insync.replicas; the controller notices after its 9 s broker session) and comes back while a
    // member dies.
    brokerKilled = await cluster.victim(box.kafka, `detectors-${box.namespace}`);
    ledByKilled = (await replication(box.kafka, box.topics.telemetry)).leaders.filter(
      (l) => l === brokerKilled,
    ).length;
    await cluster.stopNode(brokerKilled, 'KILL');
    timeline.push(`step ${step}: broker ${brokerKilled} SIGKILLed`);
    await new Promise((r) => setTimeout(r, 12_000));
    await cluster.startNode(brokerKilled);
    timeline.push(`step ${step}: broker ${brokerKilled} restarted`);

    killed = members[0]!;
    survivors = members.slice(1);
    const before = survivors.map((p) => rebuilt(p).length);
    killed.child.kill('SIGKILL');
    timeline.push(`step ${step}: a member SIGKILLed`);
    await killed.exited();
    // The survivors take the dead member's partitions once its session expires, and rebuild them.
    await survivors[0]!.waitFor(
      async () => survivors.reduce((n, p, i) => n + rebuilt(p).length - before[i]!, 0) >= 1,
      SESSION_TIMEOUT_MS + 30_000,
    );
    await cluster.waitReady();
    await new Promise((r) => setTimeout(r, 6000));

    sending = false;
    await sent;
    lastStepMs = T0 + (step - 1) * STEP_MS;
    // One sample per device an hour later closes every step sent (it opens a gap, so no window spans it).
    await send(
      DEVICES.map((id) => ({ key: id, value: codec.encode(sample(id, 'a', lastStepMs + 3_600_000, 1)) })),
    );
    await producer.disconnect();
    await waitCaughtUp(box.kafka, `detectors-${box.namespace}`, box.topics.telemetry, 90_000);
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    const codecA = await EventCodec.register<Anomaly>(serde, eventStreams.anomalies, box.topics.anomalies);
    anomalies = (await readAll(box.kafka, box.topics.anomalies, codecA)).filter((a) =>
      a.modelId.startsWith('window-ae:'),
    );
  }, 900_000);

  afterAll(async () => {
    await Promise.all(members.map((p) => p.stop()));
    const keep = process.env['SENTIO_TEST_KEEP_LOGS'];
    if (keep) members.forEach((m, i) => writeFileSync(join(keep, `detectors-${i}.log`), m.log));
    if (dir) rmSync(dir, { recursive: true, force: true });
    await cluster?.stop();
  }, 180_000);

  it('runs on three brokers: every topic partition has three replicas, min.insync.replicas 2', async () => {
    await expectReplicatedThrice(
      box.kafka,
      [box.topics.telemetry, box.topics.anomalies],
      box.kafkaConfig.partitions,
    );
    // The killed broker led telemetry partitions: the kill moved leaders under the members' feet.
    expect(ledByKilled).toBeGreaterThan(0);
  });

  it('shares the partitions: the joining member and the survivors rebuilt what they took over', () => {
    const joinedRebuilds = rebuilt(joined).filter((r) => r.records > 0);
    expect(joinedRebuilds.length).toBeGreaterThan(0);
    for (const r of joinedRebuilds) expect(r.devices).toBeGreaterThan(0);
    // Every partition is owned by a survivor at the end.
    const owned = survivors.flatMap((p) => assignments(p).at(-1) ?? []);
    expect(owned.sort((a, b) => a - b)).toEqual([...Array(box.kafkaConfig.partitions).keys()]);
  });

  it('scores every window of every device exactly once (by id; a repeat has the same id and score)', () => {
    const expected = new Set<number>();
    for (let end = T0 + WINDOW * STEP_MS; end <= lastStepMs + STEP_MS; end += STEP_MS) expected.add(end);
    let repeats = 0;
    for (const id of DEVICES) {
      const byEnd = new Map<number, Anomaly[]>();
      for (const a of anomalies.filter((x) => x.deviceId === id)) {
        byEnd.set(a.windowEndMs, [...(byEnd.get(a.windowEndMs) ?? []), a]);
      }
      const missing = [...expected].filter((end) => !byEnd.has(end));
      if (missing.length > 0) {
        const steps = missing.map((end) => (end - T0) / STEP_MS - 1);
        process.stderr.write(
          `detectors-scale: ${id} misses ${missing.length} windows, closing steps ${steps[0]}..${steps.at(-1)}; ${timeline.join('; ')}\n`,
        );
      }
      const extra = [...byEnd.keys()].filter((end) => !expected.has(end));
      expect({ id, missing: missing.slice(0, 5), extra: extra.slice(0, 5) }).toEqual({
        id,
        missing: [],
        extra: [],
      });
      for (const copies of byEnd.values()) {
        expect(new Set(copies.map((c) => c.eventId)).size).toBe(1);
        expect(new Set(copies.map((c) => c.score)).size).toBe(1);
        expect(copies[0]!.windowStartMs).toBe(copies[0]!.windowEndMs - WINDOW * STEP_MS);
        repeats += copies.length - 1;
      }
    }
    // Repeats come only from the killed member's batches after its last commit: a few batches at most.
    expect(repeats).toBeLessThan(DEVICES.length * 60);
    process.stderr.write(
      `detectors-scale: ${expected.size * DEVICES.length} windows, ${repeats} repeated in the topic after the kill\n`,
    );
  });
});

function sample(deviceId: string, metric: string, timestampMs: number, v: number): TelemetrySample {
  return {
    eventId: `${deviceId}-${metric}-${timestampMs}`,
    deviceId,
    timestampMs,
    metric,
    value: v,
    unit: 'u',
    quality: 'GOOD',
    labels: {},
    source: 'test',
  };
}

async function start(env: Record<string, string>): Promise<PlatformProcess> {
  // On this shared 2-core machine, with three brokers beside it, a process can take minutes to start.
  return PlatformProcess.start('detectors', env, 'detectors', 240_000);
}

/** The "partition state rebuilt" lines a member logged. */
function rebuilt(p: PlatformProcess): Array<{ partition: number; records: number; devices: number }> {
  return logLines(p)
    .filter((l) => l['msg'] === 'partition state rebuilt from its recent records')
    .map((l) => ({
      partition: l['partition'] as number,
      records: l['records'] as number,
      devices: l['devices'] as number,
    }));
}

function assignments(p: PlatformProcess): number[][] {
  return logLines(p)
    .filter((l) => l['msg'] === 'telemetry partitions assigned')
    .map((l) => l['partitions'] as number[]);
}

function logLines(p: PlatformProcess): Array<Record<string, unknown>> {
  return p.log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/**
 * One autoencoder per device in the shared model store, trained once on this fleet's signal; its
 * threshold is set below any score so that every window scored is reported.
 */
async function storeModels(modelDir: string, configFile: string): Promise<void> {
  const config = loadConfig([detectorsConfigSection], { env: { SENTIO_CONFIG_FILE: configFile } }).detectors;
  await initTfBackend(logger);
  const stream = new DeviceStream(config);
  const rows = Array.from({ length: 200 }, (_, i) => {
    const t = i * STEP_MS;
    return stream.push({
      deviceId: 'template',
      startMs: t,
      endMs: t + STEP_MS,
      rows: [METRICS.map((_, m) => value(0, m, t))],
    }).added;
  }).flat();
  const model = await trainDeviceModel('template', rows, { ...config, epochs: 2 });
  const store = new ModelStore(modelDir);
  for (const id of DEVICES) {
    model.metadata.modelId = `window-ae:${id}`;
    model.metadata.modelVersion = `scale-${id}`;
    model.metadata.threshold.value = -1;
    await store.save(id, model);
  }
}

async function readAll<T>(kafka: Kafka, topic: string, codec: EventCodec<T>): Promise<T[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, Number(e.high)]));
  const out: T[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((done) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        await codec.prepare(batch.messages.map((m) => m.value));
        for (const m of batch.messages) {
          const decoded = codec.decode(m.value);
          if (!decoded.ok) throw new Error(decoded.reason);
          out.push(decoded.value);
        }
        if (Number(batch.lastOffset()) + 1 >= (remaining.get(batch.partition) ?? Infinity))
          remaining.delete(batch.partition);
        if (remaining.size === 0) done();
      },
    });
  });
  await consumer.disconnect();
  return out;
}
