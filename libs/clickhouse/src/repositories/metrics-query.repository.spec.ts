import type { TelemetrySample } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { MetricsQueryRepository, type Aggregation } from './metrics-query.repository.js';
import { MetricsRepository } from './metrics.repository.js';
import { openSpecStore } from './spec-store.util.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Two hours of one sample every 20 s of pump-1's pressure; every 7th is BAD, every 11th has no value. */
function samples(): TelemetrySample[] {
  return Array.from({ length: 360 }, (_, i) => ({
    eventId: `p-${i}`,
    deviceId: 'pump-1',
    timestampMs: T0 + i * 20_000,
    metric: 'pressure',
    value: i % 11 === 0 ? null : 10 + (i % 13),
    unit: 'bar',
    quality: i % 7 === 0 ? ('BAD' as const) : ('GOOD' as const),
    labels: {},
    source: 'spec',
  }));
}

/** The same aggregation computed here, from the samples: only GOOD (and UNCERTAIN) values with a value count. */
function expected(stepMs: number, agg: 'avg' | 'min' | 'max' | 'sum' | 'count'): Array<[number, number]> {
  const buckets = new Map<number, number[]>();
  for (const s of samples()) {
    if (s.value === null || s.quality === 'BAD') continue;
    const bucket = Math.floor(s.timestampMs / stepMs) * stepMs;
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), s.value]);
  }
  const of = (values: number[]) =>
    ({
      avg: values.reduce((a, b) => a + b, 0) / values.length,
      min: Math.min(...values),
      max: Math.max(...values),
      sum: values.reduce((a, b) => a + b, 0),
      count: values.length,
    })[agg];
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([bucket, values]) => [bucket, of(values)]);
}

describe('MetricsQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;
  let sut: MetricsQueryRepository;

  beforeAll(async () => {
    store = await openSpecStore('metrics-query-spec');
    const writes = new MetricsRepository(store);
    await writes.insert(samples(), 'pressure');
    await writes.insert(
      [
        { ...samples()[1]!, eventId: 't-1', metric: 'temperature', value: 40, unit: 'degC', timestampMs: T0 },
        // The newest temperature is BAD and has no value: latest shows it as it is.
        {
          ...samples()[1]!,
          eventId: 't-2',
          metric: 'temperature',
          value: null,
          unit: 'degC',
          quality: 'BAD',
          timestampMs: T0 + MINUTE,
        },
        { ...samples()[1]!, eventId: 'm-1', deviceId: 'motor-1', metric: 'rpm', value: 1500, unit: 'rpm' },
      ],
      'others',
    );
    sut = new MetricsQueryRepository(store);
  });

  afterAll(async () => {
    await store.close();
  });

  const series = (stepMs: number, agg: Aggregation, resolution: 'raw' | '1m' | '1h', toMs = T0 + 2 * HOUR) =>
    sut
      .series({ device: 'pump-1', metric: 'pressure', fromMs: T0, toMs, stepMs, agg, resolution })
      .then((rows) => rows.map((r) => [Number(r.bucket_ms), r.value]));

  for (const agg of ['avg', 'min', 'max', 'sum', 'count'] as const) {
    it(`${agg} per bucket from raw rows equals the samples' own, BAD and missing values left out`, async () => {
      const rows = await series(5 * MINUTE, agg, 'raw');
      const want = expected(5 * MINUTE, agg);
      expect(rows.map((r) => r[0])).toEqual(want.map((w) => w[0]));
      rows.forEach(([, value], i) => expect(value).toBeCloseTo(want[i]![1], 9));
    });
  }

  it('answers the same sums, counts and extremes from the 1-minute and 1-hour rollups', async () => {
    for (const agg of ['sum', 'count', 'min', 'max', 'avg'] as const) {
      for (const [stepMs, resolution] of [
        [5 * MINUTE, '1m'],
        [HOUR, '1h'],
      ] as const) {
        const rollup = await series(stepMs, agg, resolution);
        const raw = await series(stepMs, agg, 'raw');
        expect(
          rollup.map((r) => r[0]),
          `${agg} ${resolution}`,
        ).toEqual(raw.map((r) => r[0]));
        rollup.forEach(([, v], i) => expect(v).toBeCloseTo(raw[i]![1]!, 9));
      }
    }
  });

  it('computes exact quantiles from raw rows and t-digest estimates within the bucket from rollups', async () => {
    const exact = await series(HOUR, 'p50', 'raw');
    const estimate = await series(HOUR, 'p50', '1h');
    const [min, max] = [await series(HOUR, 'min', 'raw'), await series(HOUR, 'max', 'raw')];
    const values = samples()
      .filter((s) => s.value !== null && s.quality !== 'BAD' && s.timestampMs < T0 + HOUR)
      .map((s) => s.value!)
      .sort((a, b) => a - b);
    // quantileExact picks the element at floor(0.5 * n).
    expect(exact[0]![1]).toBe(values[Math.floor(values.length / 2)]);
    estimate.forEach(([, v], i) => {
      expect(v).toBeGreaterThanOrEqual(min[i]![1]! - 1e-4);
      expect(v).toBeLessThanOrEqual(max[i]![1]! + 1e-4);
    });
  });

  it('keeps to the range: from inclusive, to exclusive, other devices and metrics out', async () => {
    const rows = await series(20_000, 'count', 'raw', T0 + 5 * MINUTE);
    // 15 samples in [T0, T0 + 5 min): numbers 0, 7, 11 and 14 are BAD or missing.
    expect(rows.map((r) => r[1])).toEqual(Array(15 - 4).fill(1));
    expect(rows.at(-1)![0]).toBe(T0 + 13 * 20_000);
    const none = await sut.series({
      device: 'pump-1',
      metric: 'rpm',
      fromMs: T0,
      toMs: T0 + HOUR,
      stepMs: MINUTE,
      agg: 'avg',
      resolution: 'raw',
    });
    expect(none).toEqual([]);
  });

  it('latest: the newest sample of each metric of each device asked for, whatever its quality', async () => {
    const rows = await sut.latest(['pump-1', 'motor-1', 'unknown']);
    expect(rows.map((r) => [r.device_id, r.metric, r.value, r.quality, Number(r.ts_ms)])).toEqual([
      ['motor-1', 'rpm', 1500, 'GOOD', T0 + 20_000],
      ['pump-1', 'pressure', 10 + (359 % 13), 'GOOD', T0 + 359 * 20_000],
      ['pump-1', 'temperature', null, 'BAD', T0 + MINUTE],
    ]);
    expect(await sut.latest([])).toEqual([]);
  });
});
