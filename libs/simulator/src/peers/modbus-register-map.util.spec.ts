import { describe, expect, it } from 'vitest';
import { Plant } from '../plant.js';
import { ModbusRegisterMap } from './modbus-register-map.util.js';

const words = (value: number): number[] => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(value);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
};

describe('ModbusRegisterMap', () => {
  const plant = new Plant({ devices: 3, seed: 7, startMs: Date.UTC(2026, 0, 1) });
  const devices = plant.devices();

  it('serves metric k of unit i+1 as an ABCD float32 at holding 2k', () => {
    const map = new ModbusRegisterMap(devices);
    const samples = plant.sample(Date.UTC(2026, 0, 1, 0, 0, 1));
    map.update(devices, samples);
    const second = samples.find(
      (s) => s.deviceId === devices[1]!.id && s.metric === devices[1]!.metrics[1]!.name,
    )!;
    expect(map.read(2, 2, 2)).toEqual(words(Math.fround(second.value!)));
  });

  it('reads NaN before the first sample, and refuses unknown units and addresses', () => {
    const map = new ModbusRegisterMap(devices);
    expect(map.read(1, 0, 2)).toEqual([0x7fc0, 0]);
    expect(map.read(4, 0, 1)).toBeInstanceOf(Error);
    expect(map.read(1, devices[0]!.metrics.length * 2 - 1, 2)).toBeInstanceOf(Error);
  });
});
