import type { SimulatedDevice, SimulatedSample } from '../plant.type.js';

/** Modbus unit ids 1..247 address devices; a plant beyond that is served only up to its 247th device. */
export const MAX_MODBUS_UNITS = 247;

/**
 * The simulator's register image: unit id = device index + 1; metric k of the device (catalog order) is a
 * float32, big byte and big word order (ABCD), at holding registers 2k and 2k+1. A BAD or missing sample
 * reads as NaN, which is what many PLCs report for a failed sensor.
 */
export class ModbusRegisterMap {
  private readonly units: Array<{ slots: Map<string, number>; words: Uint16Array }> = [];

  constructor(devices: SimulatedDevice[]) {
    for (const device of devices.slice(0, MAX_MODBUS_UNITS)) {
      const words = new Uint16Array(device.metrics.length * 2);
      // Nothing sampled yet reads as NaN (0x7fc00000), like a sensor that has not reported.
      for (let i = 0; i < words.length; i += 2) words[i] = 0x7fc0;
      this.units.push({ slots: new Map(device.metrics.map((m, k) => [m.name, k])), words });
    }
  }

  update(devices: SimulatedDevice[], samples: SimulatedSample[]): void {
    const unitByDevice = new Map(devices.slice(0, MAX_MODBUS_UNITS).map((d, i) => [d.id, this.units[i]!]));
    const scratch = Buffer.alloc(4);
    for (const sample of samples) {
      const unit = unitByDevice.get(sample.deviceId);
      const slot = unit?.slots.get(sample.metric);
      if (unit === undefined || slot === undefined) continue;
      scratch.writeFloatBE(sample.value ?? Number.NaN);
      unit.words[slot * 2] = scratch.readUInt16BE(0);
      unit.words[slot * 2 + 1] = scratch.readUInt16BE(2);
    }
  }

  /** Holding registers of one unit, or an Error that becomes exception 2 (illegal data address). */
  read(unitId: number, address: number, length: number): number[] | Error {
    const unit = this.units[unitId - 1];
    if (!unit) return new Error(`no unit ${unitId}`);
    if (address + length > unit.words.length)
      return new Error(`unit ${unitId} has holding registers 0..${unit.words.length - 1}`);
    return Array.from(unit.words.subarray(address, address + length));
  }
}
