import { MetricsRepository, type ClickHouseStore } from '@sentio/clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openStore,
  produceTelemetry,
  sandbox,
  telemetry,
  waitCaughtUp,
  type Sandbox,
} from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

const EVENTS = 100_000;

describe('ingest: Kafka -> ClickHouse', () => {
  let box: Sandbox;
  let store: ClickHouseStore;

  beforeAll(async () => {
    box = await sandbox('exactly_once');
    await produceTelemetry(box, telemetry(EVENTS));

    const platform = await PlatformProcess.start('ingest', { ...box.env, INGEST_MAX_BATCH_RECORDS: '20000' });
    await waitCaughtUp(box.kafka, box.env['INGEST_GROUP_ID']!, box.topics.telemetry);
    expect(await platform.stop()).toBe(0);
    store = openStore(box);
  });

  afterAll(async () => {
    await store?.close();
  });

  it(`stores exactly the ${EVENTS} events produced, each once`, async () => {
    const metrics = new MetricsRepository(store);
    expect(await metrics.count()).toBe(EVENTS);
    expect(await metrics.countDistinctEvents()).toBe(EVENTS);
  });

  it('feeds the 1-minute and 1-hour rollups with every good value', async () => {
    const counts = await new MetricsRepository(store).rollupCounts();
    expect(counts.raw).toBe(EVENTS);
    expect(counts.minute).toBe(EVENTS);
    expect(counts.hour).toBe(EVENTS);
  });

  it('keeps the values: the sum per device matches what was produced', async () => {
    const produced = new Map<string, number>();
    for (const s of telemetry(EVENTS)) produced.set(s.deviceId, (produced.get(s.deviceId) ?? 0) + s.value!);
    const rows = await store.query<{ device_id: string; total: number }>(
      `SELECT device_id, sum(value) AS total FROM ${store.table('metrics')} GROUP BY device_id`,
    );
    expect(rows).toHaveLength(produced.size);
    for (const row of rows) expect(row.total).toBeCloseTo(produced.get(row.device_id)!, 6);
  });
});
