import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type TelemetrySample } from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { alertEvents, until } from './alerting-support.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess, repoRoot } from './support/platform-process.js';

/**
 * Backtest beyond Kafka's retention: the platform (ingest + alerting) evaluates a rule live and projects the
 * telemetry into ClickHouse; then the first half of the telemetry topic is deleted (deleteRecords, as
 * retention would), and `sentio alerts backtest` over the whole range reads the older half from ClickHouse
 * and the rest from Kafka, through the same evaluator, and agrees with what fired live.
 */
const run = promisify(execFile);

describe('alerting backtest: from Kafka within retention, else from ClickHouse', () => {
  let box: Sandbox;
  let platform: PlatformProcess | undefined;
  let dir: string;
  const t0 = Date.now() - 15 * 60_000;
  const SECONDS = 300;
  // Two hot episodes: the first lies in the part Kafka will have dropped, the second in the kept part.
  const temperature = (s: number) => ((s >= 60 && s < 100) || (s >= 200 && s < 240) ? 95 : 50);

  beforeAll(async () => {
    box = await sandbox('alerting_backtest');
    dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-backtest-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      stringify({
        rules: [
          {
            id: 'bt-hot',
            name: 'Backtest hot',
            condition: {
              kind: 'threshold',
              metric: 'temperature',
              aggregation: 'avg',
              window: '10s',
              op: '>',
              threshold: 80,
              clearThreshold: 70,
            },
            for: '3s',
            selector: { devices: ['bt-1'] },
            severity: 'major',
          },
        ],
      }),
    );
    platform = await PlatformProcess.start(
      'ingest,alerting',
      {
        ...box.env,
        ALERTING_RULES_PATH: join(dir, 'rules.yaml'),
        ALERTING_GROUP_ID: `alerting-${box.namespace}`,
        ALERTING_IDLE_ADVANCE_MS: '600000',
      },
      'alerting-dispatcher',
    );
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('reads the deleted part from the ClickHouse projections and agrees with live', async () => {
    const codec = await EventCodec.register(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.telemetry,
      box.topics.telemetry,
    );
    const producer = new EventProducer(
      box.kafka,
      { lingerMs: 2, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    // One device, so one partition, produced in event-time order: offset s holds second s.
    const rows: TelemetrySample[] = [];
    for (let s = 0; s < SECONDS; s++)
      rows.push({
        eventId: `bt-${s}`,
        deviceId: 'bt-1',
        timestampMs: t0 + s * 1000,
        metric: 'temperature',
        value: temperature(s),
        unit: 'degC',
        quality: 'GOOD',
        labels: { site: 'north' },
        source: 'test',
      });
    for (const r of rows)
      await producer.send(box.topics.telemetry, [{ key: r.deviceId, value: codec.encode(r) }]);
    await producer.disconnect();

    const live = await until('two episodes fired and resolved live', async () => {
      const events = (await alertEvents(box)).filter((e) => e.ruleId === 'bt-hot');
      return events.filter((e) => e.status === 'RESOLVED').length >= 2 ? events : undefined;
    });
    expect(live.map((e) => `${e.previousStatus}>${e.status}`)).toEqual([
      'INACTIVE>PENDING',
      'PENDING>FIRING',
      'FIRING>RESOLVED',
      'RESOLVED>PENDING',
      'PENDING>FIRING',
      'FIRING>RESOLVED',
    ]);

    // Ingest has committed (so inserted) the whole topic; then the platform lets go of ClickHouse.
    const admin = box.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(box.topics.telemetry);
    const partition = ends.find((p) => Number(p.high) > 0)!;
    expect(Number(partition.high)).toBe(SECONDS);
    await until(
      'ingest committed the telemetry',
      async () => {
        const [committed] = await admin.fetchOffsets({
          groupId: box.env['INGEST_GROUP_ID']!,
          topics: [box.topics.telemetry],
        });
        const c = committed?.partitions.find((p) => p.partition === partition.partition)?.offset ?? '-1';
        return Number(c) >= SECONDS;
      },
      120_000,
    );
    expect(await platform!.stop()).toBe(0);
    platform = undefined;

    // Retention strikes: the first 150 seconds are gone from Kafka (the first episode among them).
    await admin.deleteTopicRecords({
      topic: box.topics.telemetry,
      partitions: [{ partition: partition.partition, offset: '150' }],
    });
    const after = await admin.fetchTopicOffsets(box.topics.telemetry);
    expect(after.find((p) => p.partition === partition.partition)!.low).toBe('150');
    await admin.disconnect();

    const { stdout, stderr } = await run(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        join(repoRoot, 'tools/cli/src/main.ts'),
        'alerts',
        'backtest',
        '--rule',
        join(dir, 'rules.yaml'),
        '--from',
        String(t0),
        '--to',
        String(t0 + SECONDS * 1000),
        '--json',
      ],
      { cwd: repoRoot, env: { ...process.env, ...box.env, SENTIO_LOG_LEVEL: 'info' }, maxBuffer: 1 << 24 },
    );
    const note = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; stream?: string; rows?: number; to?: string })
      .find((l) => l.msg === 'older than Kafka retains: read from ClickHouse');
    expect(note).toMatchObject({ stream: 'telemetry', to: new Date(t0 + 150_000).toISOString() });
    // The warm-up (window + for) before --from, up to the first kept second.
    expect(note!.rows).toBe(150);
    const replayed = stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            deviceId: string;
            previous: string;
            status: string;
            ts: number;
            eventId: string;
          },
      );
    expect(
      replayed.map((t) => [t.deviceId, t.previous.toUpperCase(), t.status.toUpperCase(), t.ts, t.eventId]),
    ).toEqual(live.map((e) => [e.deviceId, e.previousStatus, e.status, e.timestampMs, e.eventId]));
    // The first episode happened before the cut: only ClickHouse could have told.
    expect(replayed[1]!.ts).toBeLessThan(t0 + 150_000);
  });
});
