import type { LatestRow, MetricsQueryRepository, SeriesQuery } from '@sentio/clickhouse';
import { describe, expect, it, vi } from 'vitest';
import { as, specConfig } from '../common/spec-fakes.util.js';
import { MetricsService } from './metrics.service.js';
import { ReadCache } from './read-cache.service.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function setup(has5m = false) {
  const mocks = {
    metrics: {
      hasResolution: vi.fn((resolution: string) => resolution !== '5m' || has5m),
      series: vi.fn(async (q: SeriesQuery) => [{ bucket_ms: String(q.fromMs), value: 1.5 }]),
      latest: vi.fn(async (devices: readonly string[]): Promise<LatestRow[]> =>
        devices.flatMap((device_id) => [
          { device_id, metric: 'flow', value: 2, unit: 'l/s', quality: 'GOOD', ts_ms: String(T0) },
          { device_id, metric: 'temp', value: null, unit: '', quality: 'BAD', ts_ms: String(T0 + 1) },
        ]),
      ),
    },
  };
  const config = specConfig({ QUERY_API_MAX_ROWS: '1000' });
  const sut = new MetricsService(
    config,
    as<MetricsQueryRepository>(mocks.metrics),
    new ReadCache(config, { mode: 'embedded' }),
  );
  return { sut, mocks };
}

describe('MetricsService', () => {
  it('picks the table that tiles the step and widens the range to whole steps', async () => {
    const { sut, mocks } = setup();
    for (const [step, stepMs, resolution] of [
      ['30s', 30_000, 'raw'],
      ['90', 90_000, 'raw'],
      ['5m', 300_000, '1m'],
      ['2h', 2 * HOUR, '1h'],
    ] as const) {
      const from = T0 + 7_000;
      const res = await sut.series({
        device: 'p',
        metric: 'm',
        from: String(from),
        to: String(T0 + 4 * HOUR),
        step,
      });
      const call = mocks.metrics.series.mock.lastCall![0];
      expect(call, step).toMatchObject({ device: 'p', metric: 'm', stepMs, resolution, agg: 'avg' });
      expect(call.fromMs % stepMs).toBe(0);
      expect(call.fromMs).toBeLessThanOrEqual(from);
      expect(call.toMs % stepMs).toBe(0);
      expect(res).toMatchObject({ stepMs, resolution, from: new Date(call.fromMs).toISOString() });
    }
  });

  it('reads the 5-minute rollup for steps it tiles once that rollup is live', async () => {
    const range = { device: 'p', metric: 'm', from: String(T0), to: String(T0 + 4 * HOUR) };
    for (const [has5m, step, resolution] of [
      [true, '10m', '5m'],
      [true, '1h', '1h'],
      [true, '3m', '1m'],
      [false, '10m', '1m'],
    ] as const) {
      const { sut } = setup(has5m);
      expect((await sut.series({ ...range, step })).resolution, `${has5m} ${step}`).toBe(resolution);
    }
  });

  it('chooses about 300 points when no step is given, and maps the rows to ISO points', async () => {
    const { sut } = setup();
    const res = await sut.series({
      device: 'p',
      metric: 'm',
      from: String(T0),
      to: String(T0 + 4 * HOUR),
      agg: 'p95',
    });
    expect(res).toMatchObject({ stepMs: 60_000, resolution: '1m', agg: 'p95' });
    expect(res.points).toEqual([{ ts: new Date(T0).toISOString(), value: 1.5 }]);
  });

  it('refuses steps that would give more buckets than the row limit, and malformed steps', async () => {
    const { sut, mocks } = setup();
    await expect(
      sut.series({ device: 'p', metric: 'm', from: String(T0), to: String(T0 + 24 * HOUR), step: '30s' }),
    ).rejects.toThrow(/2880 buckets exceed the limit of 1000/);
    for (const step of ['0', '-5', '5x', '1.5']) {
      await expect(sut.series({ device: 'p', metric: 'm', step }), step).rejects.toThrow(
        /step: expected a positive duration/,
      );
    }
    expect(mocks.metrics.series).not.toHaveBeenCalled();
  });

  it('groups latest values by device in one query', async () => {
    const { sut, mocks } = setup();
    const byDevice = await sut.latestOf(['a', 'b']);
    expect(mocks.metrics.latest).toHaveBeenCalledTimes(1);
    expect([...byDevice.keys()]).toEqual(['a', 'b']);
    expect(byDevice.get('b')).toEqual([
      { metric: 'flow', value: 2, unit: 'l/s', quality: 'GOOD', ts: new Date(T0).toISOString() },
      { metric: 'temp', value: null, unit: '', quality: 'BAD', ts: new Date(T0 + 1).toISOString() },
    ]);
  });
});
