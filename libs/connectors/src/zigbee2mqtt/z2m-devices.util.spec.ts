import { describe, expect, it } from 'vitest';
import {
  lastSeenMs,
  parseAvailability,
  parseBridgeDevices,
  stateProblems,
  stateValues,
  type Z2mDevice,
} from './z2m-devices.util.js';

/** Entries shaped as Zigbee2MQTT publishes them on <base>/bridge/devices (trimmed to what matters here). */
const bridgeDevices = [
  { ieee_address: '0x00124b0000000000', type: 'Coordinator', friendly_name: 'Coordinator', definition: null },
  {
    ieee_address: '0x00158d0001a2b3c4',
    type: 'EndDevice',
    friendly_name: 'living/climate',
    supported: true,
    definition: {
      model: 'WSDCGQ11LM',
      vendor: 'Aqara',
      description: 'Temperature and humidity sensor',
      exposes: [
        { type: 'numeric', name: 'temperature', property: 'temperature', access: 1, unit: '°C' },
        { type: 'numeric', name: 'humidity', property: 'humidity', access: 1, unit: '%' },
        { type: 'numeric', name: 'battery', property: 'battery', access: 1, unit: '%' },
        { type: 'enum', name: 'power_outage_count', property: 'x', access: 1, values: [] },
        { type: 'numeric', name: 'linkquality', property: 'linkquality', access: 1, unit: 'lqi' },
      ],
    },
  },
  {
    ieee_address: '0x0017880104e45517',
    type: 'Router',
    friendly_name: 'hall_light',
    definition: {
      model: '9290012573A',
      vendor: 'Philips',
      description: 'Hue white and color ambiance E26/E27/E14',
      exposes: [
        {
          type: 'light',
          features: [
            {
              type: 'binary',
              name: 'state',
              property: 'state',
              access: 7,
              value_on: 'ON',
              value_off: 'OFF',
              value_toggle: 'TOGGLE',
            },
            {
              type: 'numeric',
              name: 'brightness',
              property: 'brightness',
              access: 7,
              value_min: 0,
              value_max: 254,
            },
            {
              type: 'composite',
              name: 'color_xy',
              property: 'color',
              access: 7,
              features: [
                { type: 'numeric', name: 'x', property: 'x', access: 7 },
                { type: 'numeric', name: 'y', property: 'y', access: 7 },
              ],
            },
          ],
        },
        { type: 'enum', name: 'effect', property: 'effect', access: 2, values: ['blink'] },
        { type: 'numeric', name: 'transition', property: 'transition', access: 2, unit: 's' },
      ],
    },
  },
  {
    ieee_address: '0x00158d000aaaaaaa',
    type: 'EndDevice',
    friendly_name: 'door',
    definition: {
      model: 'MCCGQ11LM',
      vendor: 'Aqara',
      exposes: [
        { type: 'binary', name: 'contact', property: 'contact', access: 1, value_on: false, value_off: true },
      ],
    },
  },
  { ieee_address: '0x1', type: 'EndDevice', friendly_name: 'interviewing', definition: null },
];

const devices = parseBridgeDevices(bridgeDevices) as Z2mDevice[];
const byName = (name: string) => devices.find((d) => d.friendlyName === name)!;

describe('parseBridgeDevices', () => {
  it('keeps devices with a definition, with their published numeric and binary exposes and units', () => {
    expect(devices.map((d) => [d.ieeeAddress, d.friendlyName, d.type, d.vendor, d.model])).toEqual([
      ['0x00158d0001a2b3c4', 'living/climate', 'EndDevice', 'Aqara', 'WSDCGQ11LM'],
      ['0x0017880104e45517', 'hall_light', 'Router', 'Philips', '9290012573A'],
      ['0x00158d000aaaaaaa', 'door', 'EndDevice', 'Aqara', 'MCCGQ11LM'],
    ]);
    expect(byName('living/climate').values.map((v) => [v.metric, v.unit])).toEqual([
      ['temperature', '°C'],
      ['humidity', '%'],
      ['battery', '%'],
      ['linkquality', 'lqi'],
    ]);
    // Set-only exposes (transition) are never in the state; a composite's features nest under its property.
    expect(byName('hall_light').values.map((v) => [v.metric, v.path.join('.')])).toEqual([
      ['state', 'state'],
      ['brightness', 'brightness'],
      ['color_x', 'color.x'],
      ['color_y', 'color.y'],
    ]);
  });

  it('refuses a payload that is not a list', () => {
    expect(parseBridgeDevices({ devices: [] })).toBeInstanceOf(Error);
  });

  it('refuses the whole list when one entry has the wrong types, naming it', () => {
    const refused = parseBridgeDevices([...bridgeDevices, { ieee_address: 5, friendly_name: null }]);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe(
      `bridge/devices[${bridgeDevices.length}].ieee_address is 5, expected a string`,
    );
    expect(parseBridgeDevices([null])).toBeInstanceOf(Error);
    expect(
      parseBridgeDevices([{ ieee_address: '0x1', friendly_name: 'x', definition: 'no' }]),
    ).toBeInstanceOf(Error);
  });
});

describe('stateValues', () => {
  it('takes numbers and binaries from a state message, nested ones included', () => {
    const values = stateValues(byName('hall_light'), {
      state: 'ON',
      brightness: 200,
      color: { x: 0.46, y: 0.41 },
      color_mode: 'xy',
    });
    expect(values.map((v) => [v.value.metric, v.number])).toEqual([
      ['state', 1],
      ['brightness', 200],
      ['color_x', 0.46],
      ['color_y', 0.41],
    ]);
  });

  it("follows the definition's value_on, even when it is false", () => {
    expect(stateValues(byName('door'), { contact: true }).map((v) => v.number)).toEqual([0]);
    expect(stateValues(byName('door'), { contact: false }).map((v) => v.number)).toEqual([1]);
  });

  it('skips what is missing or of the wrong type', () => {
    expect(
      stateValues(byName('living/climate'), { temperature: 'warm', humidity: 40 }).map((v) => v.value.metric),
    ).toEqual(['humidity']);
  });

  it('names the values of the wrong type, for the dead letter', () => {
    expect(stateProblems(byName('living/climate'), { temperature: 'warm', humidity: 40 })).toEqual([
      'temperature is "warm", expected a number',
    ]);
    expect(stateProblems(byName('door'), { contact: 'maybe' })).toEqual([
      'contact is "maybe", expected false or true',
    ]);
    expect(stateProblems(byName('living/climate'), { temperature: null, humidity: 40 })).toEqual([]);
  });
});

describe('availability and last_seen', () => {
  it('reads the JSON and the legacy plain forms', () => {
    expect(parseAvailability('{"state":"online"}')).toBe('online');
    expect(parseAvailability('offline')).toBe('offline');
    expect(parseAvailability('{"state":"away"}')).toBeInstanceOf(Error);
  });

  it('reads last_seen as ISO text or epoch ms', () => {
    expect(lastSeenMs({ last_seen: '2026-11-26T10:00:00.000Z' })).toBe(
      Date.parse('2026-11-26T10:00:00.000Z'),
    );
    expect(lastSeenMs({ last_seen: 1_764_000_000_000 })).toBe(1_764_000_000_000);
    expect(lastSeenMs({})).toBeUndefined();
  });
});
