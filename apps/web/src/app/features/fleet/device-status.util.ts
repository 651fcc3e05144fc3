import type { Device } from '../../core/api/api.types';

export type DeviceStatus = 'online' | 'stale' | 'offline';

/** A device sampling at 1 Hz is online while its newest sample is this fresh... */
export const ONLINE_WITHIN_MS = 60_000;
/** ...stale up to this age, offline beyond it (or when its connector reported it offline or removed). */
export const STALE_WITHIN_MS = 15 * 60_000;

export function deviceStatus(
  device: Pick<Device, 'online' | 'removed' | 'lastSeen'>,
  nowMs: number,
): DeviceStatus {
  if (device.removed || !device.online || !device.lastSeen) return 'offline';
  const age = nowMs - Date.parse(device.lastSeen);
  if (age <= ONLINE_WITHIN_MS) return 'online';
  return age <= STALE_WITHIN_MS ? 'stale' : 'offline';
}

export function labelValue(device: Pick<Device, 'labels'>, key: string): string {
  return device.labels.find((l) => l.key === key)?.value ?? '';
}
