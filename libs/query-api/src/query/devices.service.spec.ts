import type { DeviceFilter, DeviceQueryRow, DevicesQueryRepository } from '@sentio/clickhouse';
import { describe, expect, it, vi } from 'vitest';
import { as, specConfig } from '../common/spec-fakes.util.js';
import { DevicesService } from './devices.service.js';
import type { LatestValueDto } from './metrics.dto.js';
import type { MetricsService } from './metrics.service.js';
import { ReadCache } from './read-cache.service.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const row = (id: string): DeviceQueryRow => ({
  device_id: id,
  last_event: 'DISCOVERED',
  device_type: 'pump',
  vendor: 'acme',
  model: 'p1',
  connector: 'modbus:a',
  online: true,
  removed: false,
  labels: { site: 'north' },
  metric_names: ['flow', 'temp'],
  metric_units: ['l/s'],
  updated_at_ms: String(T0),
});

function setup(ids: string[]) {
  const mocks = {
    devices: {
      list: vi.fn(async (f: DeviceFilter) =>
        ids
          .filter((id) => !f.after || id > f.after)
          .slice(0, f.limit)
          .map(row),
      ),
    },
    metrics: {
      latestOf: vi.fn(async (devices: readonly string[]) => {
        const values = (ts: number): LatestValueDto[] => [
          { metric: 'flow', value: 1, unit: 'l/s', quality: 'GOOD', ts: new Date(ts).toISOString() },
          { metric: 'temp', value: 2, unit: '', quality: 'GOOD', ts: new Date(ts + 5000).toISOString() },
        ];
        return new Map(devices.filter((d) => d !== 'silent').map((d) => [d, values(T0)]));
      }),
    },
  };
  const config = specConfig({ QUERY_API_MAX_ROWS: '100' });
  const sut = new DevicesService(
    config,
    as<DevicesQueryRepository>(mocks.devices),
    as<MetricsService>(mocks.metrics),
    new ReadCache(config, { mode: 'embedded' }),
  );
  return { sut, mocks };
}

describe('DevicesService', () => {
  it('pages with an opaque cursor, asking one row more to know whether a page follows', async () => {
    const { sut, mocks } = setup(['a', 'b', 'c', 'd', 'e']);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await sut.list({ limit: 2, cursor });
      seen.push(...page.items.map((d) => d.deviceId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(mocks.devices.list.mock.calls.map((c) => [c[0].after, c[0].limit])).toEqual([
      [undefined, 3],
      ['b', 3],
      ['d', 3],
    ]);
    await expect(sut.list({ cursor: 'bm90LWpzb24' })).rejects.toThrow(/cursor: expected the nextCursor/);
  });

  it('enriches each device with its latest values and when it was last seen, in one query per page', async () => {
    const { sut, mocks } = setup(['pump-1', 'silent']);
    const { items } = await sut.list({});
    expect(mocks.metrics.latestOf).toHaveBeenCalledTimes(1);
    expect(items[0]).toMatchObject({
      deviceId: 'pump-1',
      labels: [{ key: 'site', value: 'north' }],
      metrics: [
        { name: 'flow', unit: 'l/s' },
        { name: 'temp', unit: '' },
      ],
      lastSeen: new Date(T0 + 5000).toISOString(),
      updatedAt: new Date(T0).toISOString(),
    });
    expect(items[1]).toMatchObject({ deviceId: 'silent', lastSeen: undefined, latest: [] });
  });
});
