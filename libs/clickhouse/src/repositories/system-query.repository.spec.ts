import type { TelemetrySample } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { MetricsRepository } from './metrics.repository.js';
import { openSpecStore } from './spec-store.util.js';
import { SystemQueryRepository } from './system-query.repository.js';

describe('SystemQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;

  beforeAll(async () => {
    store = await openSpecStore('system-query-spec');
  });

  afterAll(async () => {
    await store.close();
  });

  it("sizes this database's tables from their active parts", async () => {
    const sample: TelemetrySample = {
      eventId: 'e',
      deviceId: 'd',
      timestampMs: Date.UTC(2026, 10, 26),
      metric: 'm',
      value: 1,
      unit: null,
      quality: 'GOOD',
      labels: {},
      source: 'spec',
    };
    const metrics = new MetricsRepository(store);
    await metrics.insert(
      [sample, { ...sample, eventId: 'f', timestampMs: sample.timestampMs + 1000 }],
      'one',
    );
    await metrics.insert([{ ...sample, eventId: 'g', timestampMs: sample.timestampMs + 2000 }], 'two');
    const sizes = await new SystemQueryRepository(store).tableSizes();
    const metricsSize = sizes.find((s) => s.table === 'metrics');
    // UInt64 sums: a string or a number depending on the client's JSON settings, so compared as numbers.
    expect([Number(metricsSize!.rows), Number(metricsSize!.parts)]).toEqual([3, 2]);
    expect(Number(metricsSize!.bytes_on_disk)).toBeGreaterThan(0);
    expect(Number(sizes.find((s) => s.table === 'metrics_1m')?.rows)).toBe(2);
    // Ordered by name, and only tables of this database that hold parts.
    expect(sizes.map((s) => s.table)).toEqual([...sizes.map((s) => s.table)].sort());
    expect(sizes.map((s) => s.table)).not.toContain('logs');
  });
});
