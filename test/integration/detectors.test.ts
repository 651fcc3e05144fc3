import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import {
  eventStreams,
  type Anomaly,
  type EventStream,
  type Forecast,
  type TelemetrySample,
} from '@sentio/events';
import { deadLetterHeaders } from '@sentio/kafka';
import { Plant, type FaultSpec } from '@sentio/simulator';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, telemetryProducer, waitCaughtUp, type Sandbox } from './support/backbone.js';
import { freePort, repoRoot } from './support/platform-process.js';

const MINUTE = 60_000;
/**
 * Yesterday 10:00 UTC, mid-shift: the plant's physics depends on the time of day only, so every run sees the
 * same data. A shift change is a real change of operating point that 400 training rows cannot know about.
 * Event time is fast-forwarded: 30 simulated minutes take seconds to send.
 */
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 14 * 60 * MINUTE;
const FAULT_AT = T0 + 12 * MINUTE;
const END = T0 + 30 * MINUTE;
const TRAIN_ROWS = 400;
const faults: FaultSpec[] = [
  { deviceId: 'pump-0001', kind: 'bearing_wear', startMs: FAULT_AT, severity: 10 },
  { deviceId: 'pump-0002', kind: 'leak', startMs: FAULT_AT },
  { deviceId: 'pump-0003', kind: 'stuck_sensor', metric: 'flow_rate', startMs: FAULT_AT },
  { deviceId: 'pump-0004', kind: 'spike', metric: 'discharge_pressure', startMs: FAULT_AT },
];
/**
 * Runtime scenarios beside the faults above. pump-0005 is a new device that appears at COLD_AT and leaks
 * from its third minute, long before it has the rows to train its autoencoder. pump-0006 is healthy but its
 * demand rises slowly (load_rise: every metric follows the physics), which must not read as a fault.
 * pump-0007 and pump-0008 form one asset (label asset=skid-1), and pump-0008 starts to leak at FAULT_AT.
 */
const COLD_AT = T0 + 15 * MINUTE;
const COLD_FAULT_AT = COLD_AT + 3 * MINUTE;
const DRIFT_AT = T0 + 8 * MINUTE;
const DRIFT_MS = 20 * MINUTE;
const scenarios: FaultSpec[] = [
  { deviceId: 'pump-0005', kind: 'leak', startMs: COLD_FAULT_AT },
  { deviceId: 'pump-0006', kind: 'load_rise', startMs: DRIFT_AT, durationMs: DRIFT_MS, severity: 0.5 },
  { deviceId: 'pump-0008', kind: 'leak', startMs: FAULT_AT },
];
const ASSET = 'skid-1';
const assetOf: Record<string, string> = { 'pump-0007': ASSET, 'pump-0008': ASSET };
/** The metrics each fault shows in first; an anomaly's top contribution should be one of them. */
const telltale: Record<string, string[]> = {
  'pump-0001': ['vibration_rms', 'bearing_temperature'],
  'pump-0002': ['discharge_pressure', 'flow_rate', 'motor_current'],
  'pump-0003': ['flow_rate'],
  'pump-0004': ['discharge_pressure'],
};
/**
 * Upper bound on false alarms per fault-free twin over the ~1,400 windows it has scored: the threshold is
 * 1.5 x the 99th percentile of training-window scores, so data like the training data exceeds it on well
 * under 1 % of windows; the rest of the 1.5 % allows for the slow drift a healthy pump shows after its
 * 400 training rows, which the moving baseline follows with a lag.
 */
const TWIN_MAX_ANOMALIES = 20;
const TEMP_MARGIN = 3;

describe('detectors: simulator faults through the real consumer and broker', () => {
  let box: Sandbox;
  let faulty: Plant;
  let configEnv: Record<string, string>;
  let detectors: DetectorsProcess;
  let anomalies: Anomaly[];
  let forecasts: Forecast[];
  let letters: KafkaMessage[];
  let upperLimit: number;
  let crossingMs: number;

  beforeAll(async () => {
    box = await sandbox('detectors');
    // The twin is the same plant without faults: sample for sample the same noise, so what differs is the fault.
    faulty = new Plant({ devices: 18, seed: 11, faults: [...faults, ...scenarios], startMs: T0 });
    const healthy = new Plant({ devices: 18, seed: 11, startMs: T0 });
    const samples: TelemetrySample[] = [];
    const label = (s: TelemetrySample, twin: boolean): TelemetrySample => {
      const asset = assetOf[s.deviceId];
      const deviceId = twin ? `twin-${s.deviceId}` : s.deviceId;
      // A twin is its own asset: the simulator's label would make it one machine with its faulty original.
      const own = asset ?? s.labels['asset']!;
      return { ...s, deviceId, labels: { ...s.labels, asset: twin ? `twin-${own}` : own } };
    };
    for (let t = T0; t < END; t += 1000) {
      for (const deviceId of [...faults.map((f) => f.deviceId), 'pump-0005', 'pump-0007', 'pump-0008']) {
        // The new device (and its twin) send nothing before COLD_AT.
        if (deviceId === 'pump-0005' && t < COLD_AT) continue;
        samples.push(...faulty.sampleDevice(deviceId, t).map((s) => label(s, false)));
        samples.push(...healthy.sampleDevice(deviceId, t).map((s) => label(s, true)));
      }
      samples.push(...faulty.sampleDevice('pump-0006', t));
    }
    // The limit sits a few degrees above the worn bearing's temperature at fault start; it crosses it later.
    const temperature = samples.filter(
      (s) => s.deviceId === 'pump-0001' && s.metric === 'bearing_temperature',
    );
    upperLimit = temperature.find((s) => s.timestampMs >= FAULT_AT)!.value! + TEMP_MARGIN;
    crossingMs = temperature.find((s) => s.value! >= upperLimit)?.timestampMs ?? Infinity;

    const { codec, producer, send } = await telemetryProducer(box);
    // The asset's devices are keyed by the asset, so they share a partition and one detector sees both.
    const messages = samples.map((s) => ({
      key: assetOf[s.deviceId.replace(/^twin-/, '')] ? s.labels['asset']! : s.deviceId,
      value: codec.encode(s),
    }));
    messages.splice(1000, 0, { key: 'pump-0002', value: Buffer.from('not avro at all') });
    messages.splice(5000, 0, { key: 'twin-pump-0003', value: Buffer.from([0, 0]) });
    await send(messages);
    await producer.disconnect();

    const dir = mkdtempSync(join(tmpdir(), 'sentio-detectors-'));
    const configFile = join(dir, 'sentio.yaml');
    writeFileSync(
      configFile,
      [
        'detectors:',
        `  groupId: detectors-${box.namespace}`,
        `  modelDir: ${join(dir, 'models')}`,
        `  trainRows: ${TRAIN_ROWS}`,
        // Only SIGHUP reloads models here, so the test knows when the swap happens.
        '  modelCheckMs: 0',
        // Fifteen quiet minutes after its fit, a device's group model is refitted and validated.
        '  groupRefitRows: 900',
        `  limits: { bearing_temperature: { upper: ${upperLimit.toFixed(3)} } }`,
      ].join('\n'),
    );
    configEnv = { ...box.env, SENTIO_CONFIG_FILE: configFile };
    detectors = await DetectorsProcess.start(configEnv);
    await waitCaughtUp(box.kafka, `detectors-${box.namespace}`, box.topics.telemetry, 540_000);
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    anomalies = await readTopic(box.kafka, serde, eventStreams.anomalies, box.topics.anomalies);
    forecasts = await readTopic(box.kafka, serde, eventStreams.forecasts, box.topics.forecasts);
    letters = await readRaw(box.kafka, box.topics.deadLetter);
    // Sixteen devices' half hour, with in-line training, on a shared 2-core machine.
  }, 600_000);

  afterAll(async () => {
    await detectors?.stop();
  });

  const of = (deviceId: string) => anomalies.filter((a) => a.deviceId === deviceId);
  const logLines = (msg: string) =>
    detectors.log
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('scores a new device from its first minutes: a leak in its third minute is flagged before it could train', () => {
    const fits = logLines('group model fitted').filter((l) => l['deviceId'] === 'pump-0005');
    expect(fits[0]).toMatchObject({ stage: 'cold-start', rows: 180 });
    const after = of('pump-0005').filter((a) => a.windowEndMs > COLD_FAULT_AT);
    // Flagged within minutes, while the device is still far from the rows its autoencoder needs.
    expect(Math.min(...after.map((a) => a.windowEndMs)) - COLD_FAULT_AT).toBeLessThan(3 * MINUTE);
    expect(after.filter((a) => a.windowEndMs < COLD_AT + TRAIN_ROWS * 1000).length).toBeGreaterThan(0);
    expect(after.every((a) => a.modelId === 'robust-group:pump-0005')).toBe(true);
    // The leak stays flagged, and is never taught as normal: its rows never become clean training rows.
    expect(after.length / ((END - COLD_FAULT_AT) / 1000)).toBeGreaterThan(0.7);
    expect(logLines('model trained').filter((l) => l['deviceId'] === 'pump-0005')).toEqual([]);
    // Nothing before the fault, and its fault-free twin stays quiet through its own cold start.
    expect(of('pump-0005').filter((a) => a.windowEndMs <= COLD_FAULT_AT)).toEqual([]);
    expect(of('twin-pump-0005').filter((a) => a.windowEndMs < COLD_AT + (TRAIN_ROWS + 30) * 1000)).toEqual(
      [],
    );
    expect(of('twin-pump-0005').length).toBeLessThanOrEqual(TWIN_MAX_ANOMALIES);
  });

  it('scores the devices of an asset (label asset=skid-1) together as one group', () => {
    const fits = logLines('group model fitted').filter((l) => l['assetId'] === ASSET);
    expect(fits.map((l) => l['stage'])).toContain('full');
    const asset = anomalies.filter((a) => a.modelId === `asset-group:${ASSET}`);
    expect(asset.length).toBeGreaterThanOrEqual(50);
    expect(Math.min(...asset.map((a) => a.windowEndMs))).toBeGreaterThan(FAULT_AT);
    expect(asset.every((a) => a.assetId === ASSET)).toBe(true);
    // One row of both pumps' metrics; the leaking pump is named and leads the contributions.
    expect(asset[0]!.contributions).toHaveLength(10);
    expect(asset.filter((a) => a.deviceId === 'pump-0008').length / asset.length).toBeGreaterThan(0.9);
    expect(asset[0]!.contributions[0]!.metric.startsWith('pump-0008/')).toBe(true);
    // The same asset without the fault raises nothing.
    expect(anomalies.filter((a) => a.modelId === `asset-group:twin-${ASSET}`)).toEqual([]);
  });

  // A moving baseline lags a steady ramp by slope x tau: both members once flagged the standing offset
  // (768 group and 410 autoencoder anomalies in the 22 minutes after the rise started). The baseline
  // follows its Holt trend while the trend moves the metrics along the load relation the group model
  // learned (bearing wear, a ramp too, is not followed); the group model leaves that relation out of its
  // scores and, for a load beyond its training rows', allows for how roughly 400 rows show vibration's weak
  // share of it; the autoencoder's rows have the relation taken out too (see README, Detectors).
  it('raises no anomaly on a healthy drift (demand rising by an eighth of rated load over 20 minutes)', () => {
    expect(of('pump-0006').filter((a) => a.windowEndMs > DRIFT_AT)).toEqual([]);
  });

  it.each(faults.map((f) => [f.deviceId, f.kind] as const))(
    '%s (%s): anomalies after the fault starts, led by the faulty metric',
    (deviceId) => {
      const after = of(deviceId).filter((a) => a.windowEndMs > FAULT_AT);
      expect(after.length).toBeGreaterThanOrEqual(50);
      const led = after.filter((a) => telltale[deviceId]!.includes(a.contributions[0]!.metric));
      // Most, not all: a window can also catch the healthy metrics at an unusual moment.
      expect(led.length / after.length).toBeGreaterThan(0.8);
      // Until the fault, the device and its twin see the same data: whatever it flagged, its twin flagged too.
      const before = of(deviceId).filter((a) => a.windowEndMs <= FAULT_AT);
      const twinBefore = of(`twin-${deviceId}`).filter((a) => a.windowEndMs <= FAULT_AT);
      expect(before.map((a) => a.windowEndMs)).toEqual(twinBefore.map((a) => a.windowEndMs));
    },
  );

  it('keeps a slow leak flagged to the end: a sustained alarm holds the baseline instead of absorbing the fault', () => {
    // The leak opens over 5 minutes and then stays open; the last 5 minutes are long after a 2-minute
    // moving baseline would have made it the new normal.
    const lastMinutes = of('pump-0002').filter(
      (a) => a.modelId.startsWith('window-ae') && a.windowEndMs > END - 5 * MINUTE,
    );
    expect(lastMinutes.length / 300).toBeGreaterThan(0.8);
    // ... and every minute of the leak's duration, from its first minute on, is flagged.
    for (let m = FAULT_AT + MINUTE; m < END - MINUTE; m += MINUTE) {
      const minute = of('pump-0002').filter((a) => a.windowEndMs > m && a.windowEndMs <= m + MINUTE);
      expect(minute.length, `minute ${(m - FAULT_AT) / MINUTE}`).toBeGreaterThan(45);
    }
    // Healthy drift of the same pump (shift load, wander, sensor drift) is still followed: its twin is quiet.
    const twinLast = of('twin-pump-0002').filter((a) => a.windowEndMs > END - 5 * MINUTE);
    expect(twinLast.length).toBeLessThanOrEqual(5);
  });

  it('reports the robust group model as its own member beside the autoencoder', () => {
    for (const id of ['pump-0002', 'pump-0004']) {
      const group = of(id).filter((a) => a.modelId === `robust-group:${id}`);
      expect(group.length, id).toBeGreaterThan(0);
      expect(Math.min(...group.map((a) => a.windowEndMs))).toBeGreaterThan(FAULT_AT);
      expect(group.every((a) => a.score > a.threshold)).toBe(true);
    }
  });

  it('refits the group model of quiet devices on schedule, validated before the swap, never during a fault', () => {
    const refits = detectors.log
      .split('\n')
      .filter((l) => l.includes('"msg":"group model refit'))
      .map((l) => JSON.parse(l) as { deviceId?: string; msg: string; validationRows: number });
    const twins = refits.filter((r) => r.deviceId?.startsWith('twin-'));
    expect(twins.length).toBeGreaterThan(0);
    expect(twins.every((r) => r.validationRows === 225)).toBe(true);
    // The leak alarms from its start to the end of the run: its model is never refitted on it.
    expect(refits.filter((r) => r.deviceId === 'pump-0002')).toEqual([]);
  });

  it('reports the stuck sensor by its flat line, the others by the autoencoder', () => {
    const stuck = of('pump-0003').filter((a) => a.modelId.startsWith('flatline'));
    expect(stuck.length).toBeGreaterThan(0);
    expect(stuck.every((a) => a.contributions[0]!.metric === 'flow_rate')).toBe(true);
    // A frozen reading is caught within flatRows (30) rows of its start, plus the window's own length.
    expect(Math.min(...stuck.map((a) => a.windowEndMs)) - FAULT_AT).toBeLessThanOrEqual(45_000);
    for (const id of ['pump-0001', 'pump-0002', 'pump-0004'])
      expect(of(id).some((a) => a.modelId === `window-ae:${id}`)).toBe(true);
  });

  it(`keeps the fault-free twins quiet (at most ${TWIN_MAX_ANOMALIES} anomalies each)`, () => {
    for (const { deviceId } of faults) {
      const twin = of(`twin-${deviceId}`);
      expect(twin.length, `twin-${deviceId}`).toBeLessThanOrEqual(TWIN_MAX_ANOMALIES);
      expect(twin.filter((a) => a.modelId.startsWith('flatline'))).toEqual([]);
      expect(of(deviceId).length).toBeGreaterThan(5 * twin.length);
    }
  });

  it('forecasts time to failure for the warming bearing before it crosses its limit', () => {
    expect(crossingMs).toBeLessThan(END);
    const warning = forecasts.filter(
      (f) =>
        f.deviceId === 'pump-0001' &&
        f.metric === 'bearing_temperature' &&
        f.risk !== 'NONE' &&
        f.timestampMs < crossingMs &&
        (f.timeToFailureMs ?? 0) > 0,
    );
    expect(warning.length).toBeGreaterThan(0);
    expect(warning[0]!.limitUpper).toBeCloseTo(upperLimit, 2);
    // The healthy twin drifts too, but not towards the limit within the forecast horizon.
    const twin = forecasts.filter(
      (f) => f.deviceId === 'twin-pump-0001' && f.metric === 'bearing_temperature',
    );
    expect(twin.length).toBeGreaterThan(0);
    expect(twin.filter((f) => f.risk === 'HIGH' || f.risk === 'MEDIUM')).toEqual([]);
  });

  it('dead-letters undecodable telemetry and keeps going', () => {
    const mine = letters.filter((m) => m.headers?.[deadLetterHeaders.component]?.toString() === 'detectors');
    expect(mine.map((m) => m.value?.toString('hex')).sort()).toEqual(
      [Buffer.from('not avro at all').toString('hex'), '0000'].sort(),
    );
  });

  it('lists a current, versioned model per device: the trained one, or the version a validated retrain swapped in', async () => {
    const trained = logLines('model trained');
    const trainedIds = trained.map((l) => l['deviceId'] as string);
    // Every device trains once (a device in alarm since its first minutes never gets the clean rows to).
    expect(new Set(trainedIds).size).toBe(trainedIds.length);
    for (const { deviceId } of faults)
      expect(trainedIds).toEqual(expect.arrayContaining([deviceId, `twin-${deviceId}`]));
    const { code, stdout } = await cli(['detect', 'models'], configEnv);
    expect(code).toBe(0);
    const current = stdout.split('\n').filter((l) => l.startsWith('*'));
    expect(current.map((l) => l.split(/\s+/)[1]).sort()).toEqual([...trainedIds].sort());
    // Same rows before the fault, same seed: a device and its twin train the very same model version.
    const trainedVersion = (id: string) => trained.find((l) => l['deviceId'] === id)!['modelVersion'];
    expect(trainedVersion('pump-0004')).toBe(trainedVersion('twin-pump-0004'));
    const swaps = logLines('model retrained and swapped in');
    for (const id of trainedIds) {
      const last = swaps.filter((l) => l['deviceId'] === id).at(-1)?.['to'] ?? trainedVersion(id);
      expect(current.find((l) => l.split(/\s+/)[1] === id)!.split(/\s+/)[2], id).toBe(last);
    }
  });

  it('retrains a device from a replay of the topic and swaps the model in on SIGHUP without losing windows', async () => {
    const before = anomalies.find((a) => a.deviceId === 'pump-0001' && a.modelId.startsWith('window-ae'))!;
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 10 * MINUTE).toISOString();
    const trained = await cli(
      ['detect', 'train', '--device', 'pump-0001', '--from', from, '--to', to],
      configEnv,
    );
    expect(trained.code, trained.stderr).toBe(0);
    const version = /model (\w+) trained on (\d+) rows/.exec(trained.stdout);
    expect(version?.[1]).toBeDefined();
    expect(version![1]).not.toBe(before.modelVersion);
    // Ten minutes at one row a second, less the rows the assembler still held open at the range's edge.
    expect(Number(version![2])).toBeGreaterThan(590);

    detectors.signal('SIGHUP');
    const more: TelemetrySample[] = [];
    for (let t = END; t < END + 2 * MINUTE; t += 1000)
      for (const id of ['pump-0001', 'pump-0003']) more.push(...faulty.sampleDevice(id, t));
    const { codec, producer, send } = await telemetryProducer(box);
    await send(more.map((s) => ({ key: s.deviceId, value: codec.encode(s) })));
    await producer.disconnect();
    await waitCaughtUp(box.kafka, `detectors-${box.namespace}`, box.topics.telemetry, 60_000);
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    const all = await readTopic(box.kafka, serde, eventStreams.anomalies, box.topics.anomalies);
    const later = all.filter((a) => a.windowEndMs > END);
    expect(detectors.log).toContain('"msg":"model swapped"');
    const wear = later.filter((a) => a.deviceId === 'pump-0001' && a.modelId.startsWith('window-ae'));
    expect(wear.length).toBeGreaterThan(0);
    expect(new Set(wear.map((a) => a.modelVersion))).toEqual(new Set([version![1]]));
    // The stuck sensor is flagged on every window: one per row from its first to its last, none missing
    // across the pause, the swap or the windows that stayed open until the second batch of records.
    const stuck = all
      .filter((a) => a.deviceId === 'pump-0003' && a.modelId.startsWith('flatline'))
      .map((a) => a.windowEndMs)
      .sort((a, b) => a - b);
    expect(stuck.every((t, i) => i === 0 || t - stuck[i - 1]! === 1000)).toBe(true);
    expect(stuck.at(-1)!).toBeGreaterThan(END + 100_000);
  });

  it('stops cleanly', async () => {
    expect(await detectors.stop()).toBe(0);
  });
});

const cliArgs = ['--import', '@swc-node/register/esm-register', resolve(repoRoot, 'tools/cli/src/main.ts')];

async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...cliArgs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** `sentio run detectors`: waits for the detectors health component, which PlatformProcess does not. */
class DetectorsProcess {
  private readonly output: string[] = [];
  private constructor(private readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => this.output.push(chunk.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static async start(env: Record<string, string>): Promise<DetectorsProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--enable-source-maps', ...cliArgs, 'run', 'detectors'], {
      cwd: repoRoot,
      env: { ...process.env, SENTIO_HTTP_PORT: String(port), SENTIO_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const process_ = new DetectorsProcess(child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`detectors exited:\n${process_.log.slice(-4000)}`);
      const health = await fetch(`http://127.0.0.1:${port}/health`).then(
        async (r) => (r.ok ? ((await r.json()) as { components: Record<string, unknown> }) : undefined),
        () => undefined,
      );
      if (health?.components['detectors']) return process_;
      if (Date.now() > deadline) throw new Error(`detectors not healthy:\n${process_.log.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  get log(): string {
    return this.output.join('');
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<number | string> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await once(this.child, 'exit');
    }
    return this.child.exitCode ?? this.child.signalCode!;
  }
}

/** Every record of a topic up to its current end. */
async function readRaw(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => Number(e.high) > 0).map((e) => [e.partition, Number(e.high)]));
  const seen: KafkaMessage[] = [];
  if (remaining.size === 0) return seen;
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((done) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        seen.push(...batch.messages);
        const last = Number(batch.lastOffset());
        if (last + 1 >= (remaining.get(batch.partition) ?? Infinity)) remaining.delete(batch.partition);
        if (remaining.size === 0) done();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

async function readTopic<T>(
  kafka: Kafka,
  serde: AvroSerde,
  stream: EventStream<T>,
  topic: string,
): Promise<T[]> {
  const codec = await EventCodec.register<T>(serde, stream, topic);
  const messages = await readRaw(kafka, topic);
  await codec.prepare(messages.map((m) => m.value));
  return messages.map((m) => {
    const decoded = codec.decode(m.value);
    if (!decoded.ok) throw new Error(decoded.reason);
    return decoded.value;
  });
}
