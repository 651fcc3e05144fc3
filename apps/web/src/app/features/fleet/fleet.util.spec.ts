import { describe, expect, it } from 'vitest';
import type { Device } from '../../core/api/api.types';
import { deviceStatus } from './device-status.util';
import { countByStatus, distinct, filterRows, toRows, type FleetFilter } from './fleet-filter.util';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function device(id: string, type: string, site: string, lastSeenAgoMs: number | null, online = true): Device {
  return {
    deviceId: id,
    lastEvent: 'DISCOVERED',
    deviceType: type,
    vendor: 'ACME',
    model: 'X1',
    connector: 'simulator',
    online,
    removed: false,
    labels: [
      { key: 'site', value: site },
      { key: 'line', value: `${site}-line` },
    ],
    metrics: [],
    updatedAt: ago(3_600_000),
    lastSeen: lastSeenAgoMs === null ? null : ago(lastSeenAgoMs),
    latest: [],
  };
}

const FILTER: FleetFilter = { q: '', type: '', site: '', status: '', label: '', sort: 'id', dir: 'asc' };

describe('device status', () => {
  it('is online while samples are fresh, stale for a while, then offline', () => {
    expect(deviceStatus(device('a', 'pump', 's', 5_000), NOW)).toBe('online');
    expect(deviceStatus(device('a', 'pump', 's', 5 * 60_000), NOW)).toBe('stale');
    expect(deviceStatus(device('a', 'pump', 's', 60 * 60_000), NOW)).toBe('offline');
    expect(deviceStatus(device('a', 'pump', 's', null), NOW)).toBe('offline');
    expect(deviceStatus(device('a', 'pump', 's', 1_000, false), NOW)).toBe('offline');
  });
});

describe('fleet filter', () => {
  const rows = toRows(
    [
      device('pump-0002', 'pump', 'site-01', 1_000),
      device('motor-0001', 'motor', 'site-02', 10 * 60_000),
      device('pump-0001', 'pump', 'site-02', null),
    ],
    new Map([['pump-0002', 4]]),
    NOW,
  );

  it('searches id, type and labels; filters by type, site, status and label', () => {
    const ids = (f: Partial<FleetFilter>) =>
      filterRows(rows, { ...FILTER, ...f }).map((r) => r.device.deviceId);
    expect(ids({})).toEqual(['motor-0001', 'pump-0001', 'pump-0002']);
    expect(ids({ q: 'PUMP' })).toEqual(['pump-0001', 'pump-0002']);
    expect(ids({ q: 'site-02-line' })).toEqual(['motor-0001', 'pump-0001']);
    expect(ids({ type: 'motor' })).toEqual(['motor-0001']);
    expect(ids({ site: 'site-02', type: 'pump' })).toEqual(['pump-0001']);
    expect(ids({ status: 'stale' })).toEqual(['motor-0001']);
    expect(ids({ label: 'site=site-01' })).toEqual(['pump-0002']);
    expect(ids({ label: 'site-02' })).toEqual(['motor-0001', 'pump-0001']);
  });

  it('sorts by any column in either direction, ties by id', () => {
    const ids = (f: Partial<FleetFilter>) =>
      filterRows(rows, { ...FILTER, ...f }).map((r) => r.device.deviceId);
    expect(ids({ sort: 'anomalies', dir: 'desc' })).toEqual(['pump-0002', 'motor-0001', 'pump-0001']);
    expect(ids({ sort: 'status' })).toEqual(['pump-0001', 'motor-0001', 'pump-0002']);
    expect(ids({ sort: 'lastSeen', dir: 'desc' })).toEqual(['pump-0002', 'motor-0001', 'pump-0001']);
    expect(ids({ sort: 'type' })).toEqual(['motor-0001', 'pump-0001', 'pump-0002']);
  });

  it('counts statuses and lists distinct values for the menus', () => {
    expect(countByStatus(rows)).toEqual({ online: 1, stale: 1, offline: 1 });
    expect(distinct(rows, (r) => r.site)).toEqual(['site-01', 'site-02']);
  });

  it('filters and sorts 10,000 devices', () => {
    const many = toRows(
      Array.from({ length: 10_000 }, (_, i) =>
        device(`dev-${i}`, i % 2 ? 'pump' : 'motor', `site-${i % 7}`, i * 100),
      ),
      new Map(),
      NOW,
    );
    const found = filterRows(many, { ...FILTER, q: 'dev-99', sort: 'lastSeen', dir: 'desc' });
    // dev-99 and dev-990..999 and dev-9900..9999
    expect(found.length).toBe(111);
    // Newest sample first: dev-99 was seen 9.9 s ago, dev-9999 16.7 min ago.
    expect([found[0]!.device.deviceId, found.at(-1)!.device.deviceId]).toEqual(['dev-99', 'dev-9999']);
  });
});
