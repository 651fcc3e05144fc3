import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ClickHouseStore, clickHouseConfigSection, MetricsRepository } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
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
 * Two ingest members share one ClickHouse (chdb behind tools/chdb-http). One is frozen (SIGSTOP) past its
 * session timeout while it buffers records: the group drops it and the other member is assigned its
 * partitions and reads them again from the committed offsets. When the frozen member wakes, its flush
 * timer and its rejoin both want to insert what it buffered: records the other member owns now, under
 * ranges (and deduplication tokens) of its own. It must insert none of them: it confirms its membership
 * after writing a cycle ahead and before inserting it. Every record must be stored exactly once.
 */
describe('ingest: a member removed from its group while frozen inserts nothing it buffered', () => {
  let box: Sandbox;
  let front: ChildProcess | undefined;
  const members: PlatformProcess[] = [];
  let folder = '';
  let produced = 0;
  let caughtUp: Error | undefined;
  let stored = { rows: 0, distinct: 0 };

  beforeAll(async () => {
    box = await sandbox('removedmember');
    folder = mkdtempSync(join(tmpdir(), 'sentio-removed-chdb-'));
    front = spawn(
      process.execPath,
      [...swc, 'tools/chdb-http/chdb-http.ts', '--path', folder, '--port', '0'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(createInterface({ input: front.stdout! }), 'line')) as [string];
    const url = line.trim();

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

    // Long flush intervals: whoever is frozen holds seconds of records in its buffers.
    const env = {
      ...box.env,
      CLICKHOUSE_URL: url,
      INGEST_FLUSH_INTERVAL_MS: '3000',
      KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '6000',
    };
    const a = await PlatformProcess.start('ingest', env, 'ingest', 180_000);
    members.push(a);
    const b = await PlatformProcess.start('ingest', env, 'ingest', 180_000);
    members.push(b);
    const rows = (m: PlatformProcess) => m.metric('sentio_ingest_rows_total');
    // Both hold partitions and have landed cycles before anyone is frozen.
    await a.waitFor(async () => (await rows(a)) > 0 && (await rows(b)) > 0, 90_000);
    const group = box.env['INGEST_GROUP_ID']!;
    const topic = box.topics.telemetry;

    // Frozen between two of its cycles (half a flush interval after one landed): its buffers hold records
    // it has not written ahead, which nobody else knows it has read.
    const landed = await rows(a);
    await a.waitFor(async () => (await rows(a)) !== landed, 30_000);
    await pause(1_500);
    a.child.kill('SIGSTOP');
    // Past the session: b is assigned every partition and lands a's records itself.
    await pause(16_000);
    a.child.kill('SIGCONT');
    await a.waitFor(async () => a.log.includes('The coordinator is not aware of this member'), 60_000);
    await pause(10_000);
    producing = false;
    await stream;
    await producer.disconnect();
    try {
      await waitCaughtUp(box.kafka, group, topic, 90_000);
    } catch (error) {
      caughtUp = error as Error;
    }
    for (const m of members) expect(await m.stop()).toBe(0);
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
    const dump = process.env['SENTIO_REMOVED_MEMBER_LOG'];
    if (dump) writeFileSync(dump, members.map((m) => m.log).join('\n'));
    for (const child of [...members.map((m) => m.child), front]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('the frozen member was really removed, and learnt it had lost its partitions', () => {
    expect(members[0]!.log).toContain('The coordinator is not aware of this member');
    expect(members[0]!.log).toContain('no longer a member of its group');
  });

  it('the group catches up with everything produced', () => {
    expect(caughtUp?.message).toBeUndefined();
  });

  it('stores every produced event exactly once', () => {
    expect(produced).toBeGreaterThan(0);
    expect(stored).toEqual({ rows: produced, distinct: produced });
  });
});
