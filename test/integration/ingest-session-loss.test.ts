import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ClickHouseStore, clickHouseConfigSection, MetricsRepository } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
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
import { PlatformProcess, repoRoot } from './support/platform-process.js';

const swc = ['--enable-source-maps', '--import', '@swc-node/register/esm-register'];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Live ingest loses its consumer-group session while its ClickHouse is starved (E's 10-million replay bench:
 * the replay's inserts starved the engine and the process; afterwards ingest never committed again). Here
 * both are frozen by SIGSTOP: ingest for longer than its session timeout (the group drops the member), and
 * the ClickHouse engine (chdb behind tools/chdb-http) for longer than the sink's revoke bound (20 s), so the
 * flush under way before the freeze is still hanging when the member is back in the group with a new
 * assignment. Records keep streaming throughout; ingest must commit again and store every record once.
 */
describe('ingest: session lost while ClickHouse is starved, then rejoined', () => {
  let box: Sandbox;
  let front: ChildProcess | undefined;
  let ingest: PlatformProcess | undefined;
  let url = '';
  let produced = 0;
  let caughtUp: Error | undefined;
  let stored = { rows: 0, distinct: 0 };

  beforeAll(async () => {
    box = await sandbox('sessionloss');
    const folder = mkdtempSync(join(tmpdir(), 'sentio-sessionloss-chdb-'));
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

    const { codec, producer, send } = await telemetryProducer(box);
    let producing = true;
    const stream = (async () => {
      for (let chunk = 0; producing; chunk++) {
        const samples = telemetry(200, 100, Date.now() - 3_600_000 + chunk * 2_000).map((s, i) => ({
          ...s,
          eventId: `c${chunk}-${i}`,
        }));
        await send(samples.map((s) => ({ key: s.deviceId, value: codec.encode(s) })));
        produced += samples.length;
        await pause(200);
      }
    })();

    ingest = await PlatformProcess.start(
      'ingest',
      {
        ...box.env,
        CLICKHOUSE_URL: url,
        INGEST_FLUSH_INTERVAL_MS: '200',
        KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      },
      'ingest',
      180_000,
    );
    const group = box.env['INGEST_GROUP_ID']!;
    const topic = box.topics.telemetry;
    // Committing under load before anything is frozen.
    await ingest.waitFor(async () => (await consumerLag(box.kafka, group, topic)) < produced, 60_000);

    // The engine first (the flush under way hangs on it), then the process past its session timeout.
    front.kill('SIGSTOP');
    ingest.child.kill('SIGSTOP');
    await pause(10_000);
    ingest.child.kill('SIGCONT');
    // It finds itself out of the group: it lands nothing before rejoining (the partitions may be another
    // member's), its flush under way still hangs on the engine; it rejoins and is assigned every partition.
    await ingest.waitFor(async () => ingest!.log.includes('no longer a member of its group'), 60_000);
    await waitStable(box, group);
    await pause(2_000);
    front.kill('SIGCONT');

    // Streaming goes on after the engine is back; then everything produced must be committed.
    await pause(10_000);
    producing = false;
    await stream;
    await producer.disconnect();
    try {
      await waitCaughtUp(box.kafka, group, topic, 90_000);
    } catch (error) {
      caughtUp = error as Error;
    }
    expect(await ingest.stop()).toBe(0);
    const store = ClickHouseStore.open(
      loadConfig([clickHouseConfigSection], { env: { ...box.env, CLICKHOUSE_URL: url } }).clickhouse,
      logger,
    );
    try {
      const metrics = new MetricsRepository(store);
      stored = { rows: await metrics.count(), distinct: await metrics.countDistinctEvents() };
    } finally {
      await store.close();
    }
  }, 420_000);

  afterAll(async () => {
    // The process's JSON log, for reading what happened around the rejoin.
    const dump = process.env['SENTIO_SESSION_LOSS_LOG'];
    if (dump && ingest) writeFileSync(dump, ingest.log);
    for (const child of [ingest?.child, front]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });

  it('really lost its session and landed nothing before the rejoin', () => {
    expect(ingest!.log).toContain('The coordinator is not aware of this member');
    expect(ingest!.log).toContain('no longer a member of its group');
  });

  it('commits again after the rejoin: the group catches up with everything produced', () => {
    expect(caughtUp?.message).toBeUndefined();
  });

  it('stores every produced event exactly once', () => {
    expect(produced).toBeGreaterThan(0);
    expect(stored).toEqual({ rows: produced, distinct: produced });
  });
});

/** Waits until the group is Stable with one member: the rejoin is done and the partitions are assigned. */
async function waitStable(box: Sandbox, group: string): Promise<void> {
  const admin = box.kafka.admin();
  await admin.connect();
  try {
    for (const deadline = Date.now() + 60_000; ; await pause(250)) {
      const [described] = (await admin.describeGroups([group])).groups;
      if (described?.state === 'Stable' && described.members.length === 1) return;
      if (Date.now() > deadline) throw new Error(`group ${group} not Stable with one member within 60 s`);
    }
  } finally {
    await admin.disconnect();
  }
}
