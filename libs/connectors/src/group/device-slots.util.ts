import { createHash } from 'node:crypto';

/**
 * The slot (partition of the group's coordination topic) a unit of reading belongs to: a Modbus device,
 * an OPC UA device, or a whole broker session (MQTT, Zigbee2MQTT, Home Assistant), keyed by connector
 * name and device id. A hash, not the order in the file, so adding a device moves no other.
 */
export function slotOf(connector: string, deviceId: string | undefined, slots: number): number {
  const digest = createHash('sha1')
    .update(`${connector}\u0000${deviceId ?? ''}`)
    .digest();
  return digest.readUInt32BE(0) % slots;
}

/** Whether this process reads a unit: always without a group, else when its slot is assigned here. */
export type Ownership = (connector: string, deviceId?: string) => boolean;

export const ownsEverything: Ownership = () => true;

export function ownershipOf(owned: ReadonlySet<number>, slots: number): Ownership {
  return (connector, deviceId) => owned.has(slotOf(connector, deviceId, slots));
}
