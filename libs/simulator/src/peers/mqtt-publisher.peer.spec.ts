import { describe, expect, it } from 'vitest';
import { Plant } from '../plant.js';
import { ieeeAddressOf, z2mBridgeDevices } from './mqtt-publisher.peer.js';

describe('z2mBridgeDevices', () => {
  it('lists only the environment sensors, with numeric exposes in the catalogue units', () => {
    const devices = new Plant({ devices: 10, seed: 1 }).devices();
    const listed = z2mBridgeDevices(devices) as Array<Record<string, unknown>>;
    expect(listed.map((d) => [d['friendly_name'], d['ieee_address']])).toEqual([
      ['env-0001', '0x00124b0000000004'],
      ['env-0002', '0x00124b0000000009'],
    ]);
    expect(listed[0]!['definition']).toMatchObject({
      exposes: [
        { type: 'numeric', property: 'temperature', access: 1, unit: 'degC' },
        { type: 'numeric', property: 'humidity', access: 1, unit: '%' },
        { type: 'numeric', property: 'co2', access: 1, unit: 'ppm' },
      ],
    });
    expect(ieeeAddressOf(255)).toBe('0x00124b00000000ff');
  });
});
