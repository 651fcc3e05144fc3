import type { DeviceLifecycle } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { DevicesQueryRepository, type DeviceFilter } from './devices-query.repository.js';
import { DevicesRepository } from './devices.repository.js';
import { openSpecStore } from './spec-store.util.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function event(
  deviceId: string,
  kind: DeviceLifecycle['kind'],
  at: number,
  more: Partial<DeviceLifecycle> = {},
): DeviceLifecycle {
  return {
    eventId: `${deviceId}-${kind}-${at}`,
    deviceId,
    timestampMs: at,
    kind,
    deviceType: 'pump',
    vendor: 'acme',
    model: 'p1',
    connector: 'modbus:plant',
    online: kind !== 'OFFLINE' && kind !== 'REMOVED',
    labels: { site: 'north' },
    metrics: [
      { name: 'pressure', unit: 'bar' },
      { name: 'flow', unit: null },
    ],
    ...more,
  };
}

describe('DevicesQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;
  let sut: DevicesQueryRepository;
  const all: DeviceFilter = { includeRemoved: false, limit: 100 };

  beforeAll(async () => {
    store = await openSpecStore('devices-query-spec');
    await new DevicesRepository(store).insert(
      [
        event('pump-1', 'DISCOVERED', T0),
        // Was a motor on MQTT first: the newest event's type and connector win.
        event('pump-2', 'DISCOVERED', T0, { deviceType: 'motor', connector: 'mqtt:a' }),
        event('pump-2', 'OFFLINE', T0 + 1000),
        event('motor-1', 'DISCOVERED', T0, { deviceType: 'motor', connector: 'mqtt:a' }),
        event('gone-1', 'DISCOVERED', T0),
        event('gone-1', 'REMOVED', T0 + 1000),
      ],
      'devices',
    );
    sut = new DevicesQueryRepository(store);
  });

  afterAll(async () => {
    await store.close();
  });

  const ids = async (filter: Partial<DeviceFilter>) =>
    (await sut.list({ ...all, ...filter })).map((r) => r.device_id);

  it('lists the inventory as of the newest event per device, removed devices left out', async () => {
    const rows = await sut.list(all);
    expect(rows.map((r) => r.device_id)).toEqual(['motor-1', 'pump-1', 'pump-2']);
    expect(rows[2]).toMatchObject({
      device_id: 'pump-2',
      last_event: 'OFFLINE',
      device_type: 'pump',
      connector: 'modbus:plant',
      online: false,
      removed: false,
      labels: { site: 'north' },
      metric_names: ['pressure', 'flow'],
      metric_units: ['bar', ''],
    });
    expect(Number(rows[2]!.updated_at_ms)).toBe(T0 + 1000);
    expect(await ids({ includeRemoved: true })).toEqual(['gone-1', 'motor-1', 'pump-1', 'pump-2']);
  });

  it('filters on the winning row only: an older event that matched does not count', async () => {
    expect(await ids({ type: 'motor' })).toEqual(['motor-1']);
    expect(await ids({ connector: 'mqtt:a' })).toEqual(['motor-1']);
    expect(await ids({ online: false })).toEqual(['pump-2']);
    expect(await ids({ online: true, type: 'pump' })).toEqual(['pump-1']);
  });

  it('filters by a label and by text in the device id', async () => {
    expect(await ids({ label: { key: 'site', value: 'north' } })).toEqual(['motor-1', 'pump-1', 'pump-2']);
    expect(await ids({ label: { key: 'site', value: 'south' } })).toEqual([]);
    expect(await ids({ label: { key: 'line', value: '' } })).toEqual([]);
    expect(await ids({ search: 'PUMP' })).toEqual(['pump-1', 'pump-2']);
    expect(await ids({ search: 'p-2' })).toEqual(['pump-2']);
    expect(await ids({ search: '%' })).toEqual([]);
  });

  it('pages by device id after a key, up to the limit', async () => {
    expect(await ids({ limit: 2 })).toEqual(['motor-1', 'pump-1']);
    expect(await ids({ limit: 2, after: 'pump-1' })).toEqual(['pump-2']);
    expect(await ids({ after: 'pump-2' })).toEqual([]);
  });

  it('binds filter values: quotes and SQL in them match nothing', async () => {
    expect(await ids({ type: "pump' OR 1=1 --" })).toEqual([]);
    expect(await ids({ after: "' OR ''='" })).toEqual(['motor-1', 'pump-1', 'pump-2']);
  });
});
