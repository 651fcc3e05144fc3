import type { Device } from '../../core/api/api.types';
import { deviceStatus, labelValue, type DeviceStatus } from './device-status.util';

export interface FleetRow {
  device: Device;
  site: string;
  status: DeviceStatus;
  anomalies: number;
  /** The latest values a row shows (the first three metrics), fixed per row so scrolling allocates nothing. */
  values: Device['latest'];
  /** Lower-cased text the search box matches: id, type, vendor, model, connector and every label. */
  haystack: string;
}

export interface FleetFilter {
  q: string;
  type: string;
  site: string;
  status: string;
  /** `key=value` or a bare value matched against every label. */
  label: string;
  sort: FleetSortKey;
  dir: 'asc' | 'desc';
}

export const FLEET_SORT_KEYS = ['id', 'type', 'site', 'status', 'lastSeen', 'anomalies'] as const;
export type FleetSortKey = (typeof FLEET_SORT_KEYS)[number];

const STATUS_ORDER: Record<DeviceStatus, number> = { offline: 0, stale: 1, online: 2 };

export function toRows(devices: Device[], anomalies: Map<string, number>, nowMs: number): FleetRow[] {
  return devices.map((device) => ({
    device,
    site: labelValue(device, 'site'),
    status: deviceStatus(device, nowMs),
    anomalies: anomalies.get(device.deviceId) ?? 0,
    values: device.latest.slice(0, 3),
    haystack: [
      device.deviceId,
      device.deviceType,
      device.vendor,
      device.model,
      device.connector,
      ...device.labels.map((l) => `${l.key}=${l.value}`),
    ]
      .join(' ')
      .toLowerCase(),
  }));
}

export function filterRows(rows: FleetRow[], filter: FleetFilter): FleetRow[] {
  const q = filter.q.trim().toLowerCase();
  const label = filter.label.trim().toLowerCase();
  const matching = rows.filter(
    (r) =>
      (!q || r.haystack.includes(q)) &&
      (!filter.type || r.device.deviceType === filter.type) &&
      (!filter.site || r.site === filter.site) &&
      (!filter.status || r.status === filter.status) &&
      (!label ||
        (label.includes('=')
          ? r.device.labels.some((l) => `${l.key}=${l.value}`.toLowerCase() === label)
          : r.device.labels.some((l) => l.value.toLowerCase() === label))),
  );
  const sign = filter.dir === 'desc' ? -1 : 1;
  const key = sortKey(filter.sort);
  return matching.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const primary = ka < kb ? -1 : ka > kb ? 1 : 0;
    return primary !== 0 ? primary * sign : a.device.deviceId.localeCompare(b.device.deviceId);
  });
}

function sortKey(sort: FleetSortKey): (row: FleetRow) => string | number {
  switch (sort) {
    case 'type':
      return (r) => r.device.deviceType;
    case 'site':
      return (r) => r.site;
    case 'status':
      return (r) => STATUS_ORDER[r.status];
    case 'lastSeen':
      return (r) => (r.device.lastSeen ? Date.parse(r.device.lastSeen) : 0);
    case 'anomalies':
      return (r) => r.anomalies;
    default:
      return (r) => r.device.deviceId;
  }
}

/** Distinct values for the filter menus. */
export function distinct(rows: FleetRow[], pick: (row: FleetRow) => string): string[] {
  return [...new Set(rows.map(pick).filter((v) => v !== ''))].sort();
}

export function countByStatus(rows: FleetRow[]): Record<DeviceStatus, number> {
  const counts: Record<DeviceStatus, number> = { online: 0, stale: 0, offline: 0 };
  for (const r of rows) counts[r.status]++;
  return counts;
}
