import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { ClickHouseStore, pinned, ProjectionVersions } from '@sentio/clickhouse';
import { eventStreams, type AlertEvent } from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { loadSentioConfig, platformModule } from '@sentio/platform';
import { ProjectionVersionsService, ReplayService, type ReplayProgress } from '@sentio/replay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logger,
  produceTelemetry,
  sandbox,
  telemetry,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

const EVENTS = 12_000;
const DEVICES = 40;
const PICKED = ['dev-0003', 'dev-0017'];
const ALERTS = 300;
/** What migration 015 added to the alerts table: a version copied before it lacks them. */
const V2_COLUMNS = ['status', 'previous_status', 'level', 'severity_reason', 'sequence', 'value', 'flapping'];

function alerts(count: number): AlertEvent[] {
  const t0 = Date.now() - 3_600_000;
  return Array.from({ length: count }, (_, i) => ({
    eventId: `alert-${i % 30}:${Math.floor(i / 30)}`,
    alertId: `alert-${i % 30}`,
    timestampMs: t0 + i * 1000,
    state: i % 2 === 0 ? 'FIRING' : 'RESOLVED',
    severity: 'CRITICAL',
    origin: 'RULE',
    ruleId: 'hot',
    deviceId: `dev-${String(i % 30).padStart(4, '0')}`,
    title: 'too hot',
    description: 'temperature above 80',
    labels: {},
    status: i % 2 === 0 ? 'FIRING' : 'RESOLVED',
    previousStatus: i % 2 === 0 ? 'PENDING' : 'FIRING',
    level: 'MAJOR',
    severityReason: 'base',
    sequence: Math.floor(i / 30) + 1,
    value: 80 + (i % 7),
    flapping: false,
    ruleName: 'Hot',
    annotations: { summary: 'hot' },
    actor: null,
    assignee: null,
    comment: null,
  }));
}

/**
 * Partial builds (--to / --devices / --from) are never swapped in, and a full rebuild of the same version
 * starts over; a version of the alerts family copied before migration 015 gets its columns back when it is
 * rebuilt, so the rows replayed into it carry the alert-event v2 fields.
 */
describe('replay: partial builds are refused a swap; versions copied before a migration get its columns', () => {
  let box: Sandbox;
  let app: INestApplicationContext;
  let replay: ReplayService;
  let versions: ProjectionVersionsService;
  let store: ClickHouseStore;
  let refused: unknown;
  let refusedFrom: unknown;
  let partial: ReplayProgress;
  let partialRows: { total: number; devices: string[] };
  let liveAfterPartial: number;
  let full: ReplayProgress;
  let alertsBuild: ReplayProgress;
  let droppedColumns: string[];

  const count = async (table: string, where = '1') =>
    Number(
      (await store.query<{ n: string }>(`SELECT count() AS n FROM ${store.table(table)} WHERE ${where}`))[0]!
        .n,
    );

  beforeAll(async () => {
    box = await sandbox('replay_partial');
    await produceTelemetry(box, telemetry(EVENTS, DEVICES));
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    const codec = await EventCodec.register<AlertEvent>(serde, eventStreams.alerts, box.topics.alerts);
    const producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 1_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    await producer.send(
      box.topics.alerts,
      alerts(ALERTS).map((a) => ({ key: a.alertId, value: codec.encode(a) })),
    );
    await producer.disconnect();
    const ingest = await PlatformProcess.start('ingest', box.env);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.alerts);
    await ingest.stop();

    const config = loadSentioConfig({
      env: { ...process.env, ...box.env, REPLAY_MAX_BATCH_RECORDS: '3000' },
    });
    app = await NestFactory.createApplicationContext(platformModule(config, ['replay'], logger), {
      logger: false,
    });
    replay = app.get(ReplayService, { strict: false });
    versions = app.get(ProjectionVersionsService, { strict: false });
    store = app.get(ClickHouseStore, { strict: false });

    refused = await replay
      .startProjection({ family: 'metrics', devices: PICKED, swap: true })
      .catch((e) => e);
    refusedFrom = await replay
      .startProjection({ family: 'metrics', fromMs: Date.now() - 1_800_000, swap: true })
      .catch((e) => e);
    const started = await replay.startProjection({ family: 'metrics', devices: PICKED });
    partial = await replay.wait(started.id);
    partialRows = {
      total: await count(pinned('metrics', 2)),
      devices: (
        await store.query<{ d: string }>(
          `SELECT DISTINCT toString(device_id) AS d FROM ${store.table(pinned('metrics', 2))} ORDER BY d`,
        )
      ).map((r) => r.d),
    };
    liveAfterPartial = (store.versions as ProjectionVersions).liveVersion('metrics');
    full = await replay.wait((await replay.startProjection({ family: 'metrics' })).id);

    // An alerts version as a clone made before migration 015 left it: without the v2 columns.
    const version = await versions.clone('alerts');
    expect(version).toBe(2);
    for (const column of V2_COLUMNS)
      await store.command(`ALTER TABLE ${store.database}.alerts_v2 DROP COLUMN ${column}`);
    droppedColumns = (
      await store.query<{ name: string }>(
        `SELECT name FROM system.columns WHERE database = {db:String} AND table = 'alerts_v2'`,
        { db: store.database },
      )
    ).map((c) => c.name);
    alertsBuild = await replay.wait((await replay.startProjection({ family: 'alerts' })).id);
  }, 400_000);

  afterAll(async () => {
    await app?.close();
  });

  it('refuses to swap a partial build, naming why', () => {
    expect(String(refused)).toMatch(/partial build .* would drop every other row of the family/);
    expect(String(refusedFrom)).toMatch(/partial build/);
  });

  it('builds the partial version for inspection, without swapping it in', () => {
    expect(partial.state, partial.error).toBe('done');
    expect(partial.swapped).toBe(false);
    expect(liveAfterPartial).toBe(1);
    expect(partialRows.devices).toEqual(PICKED);
    expect(partialRows.total).toBe((EVENTS / DEVICES) * PICKED.length);
  });

  it('a full rebuild of the same version starts over and swaps in with every event exactly once', async () => {
    expect(full.state, full.error).toBe('done');
    expect(full.swapped).toBe(true);
    expect(full.version).toBe(2);
    expect(await count(pinned('metrics', 2))).toBe(EVENTS);
    const [d] = await store.query<{ n: string }>(
      `SELECT uniqExact(event_id) AS n FROM ${store.table(pinned('metrics', 2))}`,
    );
    expect(Number(d!.n)).toBe(EVENTS);
  });

  it('gives an alerts version copied before migration 015 its columns, and the replayed rows carry them', async () => {
    for (const column of V2_COLUMNS) expect(droppedColumns).not.toContain(column);
    expect(alertsBuild.state, alertsBuild.error).toBe('done');
    expect(alertsBuild.swapped).toBe(true);
    const columns = async (table: string) =>
      (
        await store.query<{ name: string; type: string }>(
          `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}
           ORDER BY position`,
          { db: store.database, t: table },
        )
      ).map((c) => `${c.name} ${c.type}`);
    expect(await columns('alerts_v2')).toEqual(await columns('alerts'));
    expect(await count(pinned('alerts', 2))).toBe(ALERTS);
    const rows = await store.query<{ status: string; level: string; value: number; sequence: string }>(
      `SELECT status, level, value, sequence FROM ${store.table(pinned('alerts', 2))}
       WHERE event_id = 'alert-4:1'`,
    );
    expect(rows.map((r) => ({ ...r, sequence: Number(r.sequence) }))).toEqual([
      { status: 'FIRING', level: 'MAJOR', value: 80 + (34 % 7), sequence: 2 },
    ]);
  });
});
