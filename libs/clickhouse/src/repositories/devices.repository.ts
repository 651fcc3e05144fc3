import type { DeviceLifecycle } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';
import type { Projection } from './projection.type.js';

export interface DeviceRow {
  device_id: string;
  last_event: string;
  device_type: string;
  vendor: string;
  model: string;
  connector: string;
  online: boolean;
  removed: boolean;
  labels: Record<string, string>;
}

const deviceLifecycleColumns = columnMap<DeviceLifecycle>({
  device_id: (e) => e.deviceId,
  last_event: (e) => e.kind,
  device_type: (e) => e.deviceType ?? '',
  vendor: (e) => e.vendor ?? '',
  model: (e) => e.model ?? '',
  connector: (e) => e.connector,
  online: (e) => (e.kind === 'REMOVED' ? false : e.online),
  removed: (e) => e.kind === 'REMOVED',
  labels: (e) => e.labels,
  metrics: (e) => e.metrics.map((m) => ({ name: m.name, unit: m.unit ?? '' })),
  updated_at: (e) => e.timestampMs,
});

export class DevicesRepository implements Projection<DeviceLifecycle> {
  readonly table = 'devices';

  constructor(private readonly store: ClickHouseStore) {}

  insert(events: readonly DeviceLifecycle[], token: string): Promise<void> {
    return this.store.insert(this.table, deviceLifecycleColumns, events, token);
  }

  /** The current inventory: the newest event per device, whether or not the table has merged yet. */
  async list(): Promise<DeviceRow[]> {
    return this.store.query<DeviceRow>(
      `SELECT device_id, last_event, device_type, vendor, model, connector, online, removed, labels
       FROM ${this.store.table(this.table)} FINAL
       ORDER BY device_id`,
    );
  }
}
