import {
  MetricsQueryRepository,
  MetricsRepository,
  pinned,
  ProjectionVersions,
  type ClickHouseStore,
} from '@sentio/clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  logger,
  openStore,
  produceTelemetry,
  sandbox,
  telemetry,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

const ADMIN = { username: 'admin', password: 'replay-admin-password-1' };
const FIRST = 30_000;
const LIVE = 20_000;
const AFTER_ROLLBACK = 5_000;
const TOTAL = FIRST + LIVE + AFTER_ROLLBACK;
const START_MS = Math.floor(Date.now() / 3_600_000 - 3) * 3_600_000;
/** The first FIRST samples span this long (50 devices, one sample per device per second): the API is asked
 * about this stretch before and after each swap, and must answer the same. */
const FIRST_SPAN_MS = (FIRST / 50) * 1000;

interface Progress {
  id: string;
  state: string;
  family: string;
  version: number;
  records: number;
  ratePerSecond: number;
  lag: number;
  etaSeconds: number | null;
  swapped: boolean;
  error?: string;
}

interface Version {
  family: string;
  version: number;
  live: boolean;
  previous: boolean;
  rows: Record<string, number>;
}

const points = (series: unknown) => (series as { points: unknown[] }).points;
const resolution = (series: unknown) => (series as { resolution: string }).resolution;

function metricsOf(store: ClickHouseStore, version: number): MetricsRepository {
  return Object.create(new MetricsRepository(store), {
    table: { value: pinned('metrics', version) },
  }) as MetricsRepository;
}

/**
 * The operator's path through the API on one all-in-one process (ingest, api, replay): rebuild the metrics
 * family into version 2 (migration 004 adds a 5-minute rollup) while live ingest keeps writing, watch
 * progress, swap, query the same answers, roll back and forward.
 */
describe('replay through the API: rebuild metrics into version 2 with a 5-minute rollup, swap, roll back and forward', () => {
  let box: Sandbox;
  let platform: PlatformProcess;
  let token: string;
  let store: ClickHouseStore;
  const samples = telemetry(TOTAL, 50, START_MS);
  const seen: { progress: Progress[]; metrics: string; status: string } = {
    progress: [],
    metrics: '',
    status: '',
  };
  let before: unknown;
  let afterSwap: unknown;
  let afterRollback: unknown;
  let plan: { version: number; newVersion: boolean; records: number; partitions: unknown[] };
  let swapped: Progress;
  let rolledBack: Progress;
  let rolledForward: Progress;
  let versionsAfterSwap: Version[];
  let versionsAfterRollback: Version[];
  let forbidden: number;

  const api = async <T>(method: string, path: string, body?: unknown, auth = token): Promise<T> => {
    const res = await fetch(`${platform.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: unknown) => {
      const exit = platform.child.exitCode ?? platform.child.signalCode;
      throw new Error(
        `${method} ${path}: ${(error as Error).message}; platform exit ${exit}\n${platform.log.slice(-3000)}`,
      );
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const series = () =>
    api<unknown>(
      'GET',
      `/api/metrics/series?device=dev-0008&metric=temperature&from=${new Date(START_MS).toISOString()}` +
        `&to=${new Date(START_MS + FIRST_SPAN_MS).toISOString()}&step=5m&agg=count`,
    );
  const until = async (id: string): Promise<Progress> => {
    for (;;) {
      const p = (await api<Progress[]>('GET', '/api/replays')).find((r) => r.id === id)!;
      seen.progress.push(p);
      if (p.state !== 'running') return p;
      if (p.records > 0 && !seen.metrics.includes(`replay="${id}"`)) {
        seen.metrics = await (await fetch(`${platform.baseUrl}/metrics`)).text();
        seen.status = JSON.stringify(await api('GET', '/api/system/status'));
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  beforeAll(async () => {
    box = await sandbox('replay_api');
    await produceTelemetry(box, samples.slice(0, FIRST));
    platform = await PlatformProcess.start(
      'ingest,api,replay',
      {
        ...box.env,
        SENTIO_ADMIN_USER: ADMIN.username,
        SENTIO_ADMIN_PASSWORD: ADMIN.password,
        REPLAY_MAX_BATCH_RECORDS: '5000',
        REPLAY_SWAP_THRESHOLD_RECORDS: '2000',
      },
      'ingest',
      // ingest, api and replay compile and start together: slow on a loaded machine.
      180_000,
    );
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    const login = await fetch(`${platform.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    token = ((await login.json()) as { accessToken: string }).accessToken;
    forbidden = (await fetch(`${platform.baseUrl}/api/replays`)).status;
    before = await series();

    plan = await api('POST', '/api/replays', { family: 'metrics', dryRun: true });
    // Live ingest keeps writing while the replay runs.
    const live = produceTelemetry(box, samples.slice(FIRST, FIRST + LIVE));
    const started = await api<Progress>('POST', '/api/replays', { family: 'metrics' });
    await live;
    swapped = await until(started.id);
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    afterSwap = await series();
    versionsAfterSwap = await api<Version[]>('GET', '/api/replays/versions');

    const back = await api<Progress>('POST', '/api/replays/rollback/metrics');
    rolledBack = await until(back.id);
    await produceTelemetry(box, samples.slice(FIRST + LIVE));
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    afterRollback = await series();
    versionsAfterRollback = await api<Version[]>('GET', '/api/replays/versions');
    const forward = await api<Progress>('POST', '/api/replays/rollback/metrics');
    rolledForward = await until(forward.id);
    expect(await platform.stop()).toBe(0);
    store = openStore(box);
    await ProjectionVersions.attach(store, logger, 0);
  }, 800_000);

  afterAll(async () => {
    await platform?.stop();
    await store?.close();
  });

  it('admits only admins', () => {
    expect(forbidden).toBe(401);
  });

  it('a dry run names the new version and the records it would read', () => {
    expect(plan.version).toBe(2);
    expect(plan.newVersion).toBe(false); // migration 004 created it
    expect(plan.records).toBe(FIRST);
    expect(plan.partitions).toHaveLength(6);
  });

  it('the replay showed records, rate, lag and ETA while running, on /metrics and in the system status', () => {
    const running = seen.progress.filter((p) => p.state === 'running' && p.records > 0);
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((p) => p.ratePerSecond > 0)).toBe(true);
    for (const p of running) expect(p.lag).toBeGreaterThanOrEqual(0);
    expect(seen.metrics).toMatch(/sentio_replay_records\{replay="[0-9a-f]+",family="metrics"\} \d+/);
    expect(seen.metrics).toContain('sentio_replay_lag_records');
    expect(seen.metrics).toContain('sentio_replay_eta_seconds');
    expect(seen.status).toContain('replay');
    expect(seen.status).toContain('ratePerSecond');
  });

  it('swapped version 2 in once caught up with live ingest, and the API answers the same', () => {
    expect(swapped.state, swapped.error).toBe('done');
    expect(swapped.swapped).toBe(true);
    // The same answer, now from the new 5-minute rollup (the 1-minute one answered before the swap).
    expect(points(afterSwap)).toEqual(points(before));
    expect(points(before)).not.toHaveLength(0);
    expect(resolution(before)).toBe('1m');
    expect(resolution(afterSwap)).toBe('5m');
    const v2 = versionsAfterSwap.find((v) => v.version === 2)!;
    expect(v2.live).toBe(true);
    expect(v2.rows['metrics']).toBe(FIRST + LIVE);
    expect(v2.rows['metrics_5m']).toBeGreaterThan(0);
    expect(versionsAfterSwap.find((v) => v.family === 'metrics' && v.version === 1)!.previous).toBe(true);
  });

  it('rolled back to version 1, caught up with what was ingested into version 2 meanwhile', () => {
    expect(rolledBack.state, rolledBack.error).toBe('done');
    expect(points(afterRollback)).toEqual(points(before));
    expect(resolution(afterRollback)).toBe('1m');
    const v1 = versionsAfterRollback.find((v) => v.family === 'metrics' && v.version === 1)!;
    expect(v1.live).toBe(true);
    expect(v1.rows['metrics']).toBe(TOTAL);
  });

  it('rolled forward to version 2: both versions hold every event exactly once, rollups included', async () => {
    expect(rolledForward.state, rolledForward.error).toBe('done');
    expect((store.versions as ProjectionVersions).liveVersion('metrics')).toBe(2);
    for (const version of [1, 2]) {
      const m = metricsOf(store, version);
      expect(await m.count()).toBe(TOTAL);
      expect(await m.countDistinctEvents()).toBe(TOTAL);
    }
    const [r] = await store.query<{ v1m: string; v2m: string; v25: string; v2h: string }>(
      `SELECT (SELECT countMerge(count) FROM ${store.table('metrics_1m@1')}) AS v1m,
              (SELECT countMerge(count) FROM ${store.table('metrics_1m@2')}) AS v2m,
              (SELECT countMerge(count) FROM ${store.table('metrics_5m@2')}) AS v25,
              (SELECT countMerge(count) FROM ${store.table('metrics_1h@2')}) AS v2h`,
    );
    expect([r!.v1m, r!.v2m, r!.v25, r!.v2h].map(Number)).toEqual([TOTAL, TOTAL, TOTAL, TOTAL]);
  });

  it('the new 5-minute rollup answers like the raw rows and the 1-minute rollup', async () => {
    const q = new MetricsQueryRepository(store);
    expect(q.hasResolution('5m')).toBe(true);
    const query = {
      device: 'dev-0008',
      metric: 'temperature',
      fromMs: START_MS,
      toMs: START_MS + 3 * 3_600_000,
      stepMs: 300_000,
    };
    for (const agg of ['count', 'sum', 'min', 'max'] as const) {
      const five = await q.series({ ...query, agg, resolution: '5m' });
      const one = await q.series({ ...query, agg, resolution: '1m' });
      const raw = await q.series({ ...query, agg, resolution: 'raw' });
      expect(five.length).toBeGreaterThan(0);
      expect(five.map((p) => [p.bucket_ms, p.value.toFixed(6)])).toEqual(
        one.map((p) => [p.bucket_ms, p.value.toFixed(6)]),
      );
      expect(five.map((p) => [p.bucket_ms, p.value.toFixed(6)])).toEqual(
        raw.map((p) => [p.bucket_ms, p.value.toFixed(6)]),
      );
    }
  });
});
