import { Injectable, inject, signal } from '@angular/core';
import { ApiClient } from '../../core/api/api-client.service';
import type { Device, DeviceAnomalyScore } from '../../core/api/api.types';

const DEVICE_FIELDS = `deviceId lastEvent deviceType vendor model connector online removed updatedAt lastSeen
  labels { key value } metrics { name unit } latest { metric value unit quality ts }`;

const DEVICES = `query Devices($cursor: String, $limit: Int) {
  devices(cursor: $cursor, limit: $limit) { nextCursor items { ${DEVICE_FIELDS} } }
}`;

const TOP = `query Top($from: String, $to: String, $limit: Int) {
  topAnomalousDevices(from: $from, to: $to, limit: $limit) { deviceId maxScore anomalies lastAnomaly modelVersion }
}`;

const FIRST_PAGE = 200;
const PAGE = 5000;

/** The device inventory, loaded page by page and kept for every page that needs a device's metadata. */
@Injectable({ providedIn: 'root' })
export class FleetService {
  private readonly api = inject(ApiClient);
  private readonly devicesState = signal<Device[]>([]);
  readonly devices = this.devicesState.asReadonly();
  private loading: Promise<Device[]> | undefined;

  /** Loads the whole inventory; the first small page is published at once so the list is usable early. */
  async load(signal?: AbortSignal): Promise<Device[]> {
    this.loading ??= this.fetchAll(signal).finally(() => (this.loading = undefined));
    const devices = await this.loading;
    this.devicesState.set(devices);
    return devices;
  }

  async device(deviceId: string): Promise<Device | undefined> {
    const known = this.devicesState().find((d) => d.deviceId === deviceId);
    return known ?? (await this.load()).find((d) => d.deviceId === deviceId);
  }

  /** Open anomalies per device over the range (the badge on each row). */
  async anomalyCounts(fromMs: number, toMs: number, signal?: AbortSignal): Promise<Map<string, number>> {
    const data = await this.api.query<{ topAnomalousDevices: DeviceAnomalyScore[] }>(
      TOP,
      { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), limit: 10_000 },
      signal,
    );
    return new Map(data.topAnomalousDevices.map((d) => [d.deviceId, d.anomalies]));
  }

  /** Applies live telemetry pushes (latest values, last seen), batched: one new array per flush, not per push. */
  applyTelemetry(batch: Map<string, Device['latest']>): void {
    if (batch.size === 0) return;
    this.devicesState.update((devices) =>
      devices.map((device) => {
        const values = batch.get(device.deviceId);
        if (!values) return device;
        const latest = new Map(device.latest.map((v) => [v.metric, v]));
        for (const v of values) latest.set(v.metric, v);
        const newest = values.reduce((max, v) => (v.ts > max ? v.ts : max), device.lastSeen ?? '');
        return { ...device, latest: [...latest.values()], lastSeen: newest || device.lastSeen };
      }),
    );
  }

  private async fetchAll(signal?: AbortSignal): Promise<Device[]> {
    const all: Device[] = [];
    let cursor: string | undefined;
    let limit = FIRST_PAGE;
    do {
      const data = await this.api.query<{ devices: { items: Device[]; nextCursor: string | null } }>(
        DEVICES,
        { cursor, limit },
        signal,
      );
      all.push(...data.devices.items);
      cursor = data.devices.nextCursor ?? undefined;
      // The first page shows while the rest loads (only on a first load: a refresh swaps the list at once).
      if (limit === FIRST_PAGE && cursor && this.devicesState().length === 0)
        this.devicesState.set(all.slice());
      limit = PAGE;
    } while (cursor);
    return all;
  }
}
