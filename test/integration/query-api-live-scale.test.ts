import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type Anomaly } from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { KafkaCluster } from './support/kafka-cluster.js';
import { PlatformProcess } from './support/platform-process.js';

const ADMIN = { username: 'admin', password: 'admin-password-1234' };
const QUERY = `subscription Anomalies($after: String) {
  anomalies(after: $after) { eventId deviceId cursor }
}`;

interface Item {
  eventId: string;
  deviceId: string;
  cursor: string;
}

/** One client's subscription on one instance: what it got, and how it ended. */
interface Session {
  items: Item[];
  error: unknown;
  ended: Promise<void>;
  client: Client;
}

/**
 * The API's live feed on two instances (`sentio run api` twice, each with its own embedded ClickHouse
 * folder), both reading the whole stream with a group of their own. Clients on either instance get every
 * anomaly exactly once; one instance is SIGKILLed while anomalies stream, and its client reconnects with
 * the cursor of the last event it got: the restarted instance (which began reading after that cursor)
 * refuses with RESUME_NOT_COVERED rather than leave a gap, the other instance resumes it, and the client
 * ends up with every anomaly exactly once. On a three-broker KRaft cluster of its own (replication factor 3).
 */
describe('live feed on two API instances, across an instance restart', () => {
  const folders: string[] = [];
  const instances: PlatformProcess[] = [];
  let box: Sandbox;
  let cluster: KafkaCluster | undefined;
  let producer: EventProducer;
  let codec: EventCodec<Anomaly>;

  const start = async () => {
    const folder = mkdtempSync(join(tmpdir(), 'sentio-live-scale-'));
    folders.push(folder);
    const p = await PlatformProcess.start(
      'api',
      {
        ...box.env,
        SENTIO_CLICKHOUSE_PATH: folder,
        SENTIO_ADMIN_USER: ADMIN.username,
        SENTIO_ADMIN_PASSWORD: ADMIN.password,
      },
      'live-feed',
      120_000,
    );
    instances.push(p);
    return p;
  };

  const open = async (instance: PlatformProcess, after?: string): Promise<Session> => {
    const login = await fetch(`${instance.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const client = createClient({
      url: `${instance.baseUrl.replace(/^http/, 'ws')}/api/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${accessToken}` },
      retryAttempts: 0,
      shouldRetry: () => false,
    });
    const session: Session = { items: [], error: undefined, ended: Promise.resolve(), client };
    session.ended = new Promise<void>((resolve) => {
      client.subscribe<{ anomalies: Item }>(
        { query: QUERY, variables: after ? { after } : {} },
        {
          next: (result) => {
            if (result.errors) session.error = result.errors;
            if (result.data) session.items.push(result.data.anomalies);
          },
          error: (error) => {
            session.error = error;
            resolve();
          },
          complete: () => resolve(),
        },
      );
    });
    return session;
  };

  let seq = 0;
  const anomaly = (tag: string): Anomaly => ({
    eventId: `${tag}-${seq++}`,
    deviceId: `dev-${String(seq % 40).padStart(4, '0')}`,
    assetId: 'line-1',
    timestampMs: Date.now(),
    windowStartMs: Date.now() - 10_000,
    windowEndMs: Date.now(),
    score: 0.9,
    threshold: 0.5,
    contributions: [],
    modelId: 'window-ae',
    modelVersion: 'v1',
  });
  const produce = async (tag: string, n: number) => {
    const batch = Array.from({ length: n }, () => anomaly(tag));
    await producer.send(
      box.topics.anomalies,
      batch.map((a) => ({ key: a.deviceId, value: codec.encode(a) })),
    );
    return batch.map((a) => a.eventId);
  };
  const until = async (what: string, probe: () => boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  beforeAll(async () => {
    cluster = await KafkaCluster.start('live-scale');
    box = await sandbox('live_scale');
    codec = await EventCodec.register(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.anomalies,
      box.topics.anomalies,
    );
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 1000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    await Promise.all([start(), start()]);
  }, 600_000);

  afterAll(async () => {
    for (const i of instances) await i.stop();
    await producer?.disconnect();
    for (const f of folders) rmSync(f, { recursive: true, force: true });
    await cluster?.stop();
  }, 120_000);

  it('delivers every anomaly once to clients of both instances, and resumes a client across a restart', async () => {
    const [a, b] = instances as [PlatformProcess, PlatformProcess];
    const onA = await open(a);
    const onB = await open(b);
    // The feeds read from the end: probe until both instances' consumers are placed.
    for (let i = 0; i < 100 && !(onA.items.length > 0 && onB.items.length > 0); i++) {
      await produce('probe', 1);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(onA.items.length > 0 && onB.items.length > 0).toBe(true);

    // From here every anomaly must reach both clients exactly once.
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) {
      expected.push(...(await produce('live', 20)));
      await new Promise((r) => setTimeout(r, 100));
    }
    await until('first part on A', () => onA.items.filter((x) => x.eventId.startsWith('live')).length >= 200);
    a.child.kill('SIGKILL');
    await a.exited();
    await onA.ended;
    const lastCursor = onA.items.at(-1)!.cursor;
    // Produced while A is down, and while it restarts.
    expected.push(...(await produce('live', 150)));
    const restarting = start();
    for (let i = 0; i < 5; i++) {
      expected.push(...(await produce('live', 30)));
      await new Promise((r) => setTimeout(r, 200));
    }
    const a2 = await restarting;

    // The restarted instance began reading after the cursor: it says so instead of skipping events.
    const refused = await open(a2, lastCursor);
    // Told at once (the partitions' ends when it was assigned them are past the cursor), or, for a partition
    // whose end it did not know yet, at its first event from there.
    await Promise.race([refused.ended, new Promise((r) => setTimeout(r, 3000))]);
    expected.push(...(await produce('live', 20)));
    await refused.ended;
    expect(JSON.stringify(refused.error)).toContain('RESUME_NOT_COVERED');
    await refused.client.dispose();

    // The other instance covers it: the missed events first, then live ones.
    const resumed = await open(b, lastCursor);
    const fresh = await open(a2);
    await new Promise((r) => setTimeout(r, 1500));
    const later = await produce('live', 50);
    expected.push(...later);
    await until('the last events on the resumed client', () =>
      later.every((id) => resumed.items.some((x) => x.eventId === id)),
    );
    await until('the last events on the other client', () =>
      later.every((id) => onB.items.some((x) => x.eventId === id)),
    );
    await until('the last events on a fresh client of the restarted instance', () =>
      later.every((id) => fresh.items.some((x) => x.eventId === id)),
    );
    await new Promise((r) => setTimeout(r, 1000)); // anything sent twice would show now

    const live = (s: Session) => s.items.map((x) => x.eventId).filter((id) => id.startsWith('live'));
    expect(new Set(live(onB))).toEqual(new Set(expected));
    expect(live(onB)).toHaveLength(expected.length);
    const client = [...live(onA), ...live(resumed)];
    expect(new Set(client)).toEqual(new Set(expected));
    expect(client).toHaveLength(expected.length);
    for (const s of [onB, resumed, fresh]) expect(s.error).toBeUndefined();
    for (const s of [onA, onB, resumed, fresh]) await s.client.dispose();
  }, 300_000);
});
