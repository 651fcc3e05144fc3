import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@sentio/config';
import { describe, expect, it } from 'vitest';
import { connectorsConfigSection, parseConnectors } from './connectors.config.js';

const good = `
connectors:
  - name: plant-a
    type: mqtt
    url: mqtt://broker:1883
    protocolVersion: 4
    username: sentio
    password: secret
    rules:
      - topic: plant/{device}/{metric}
        unit: degC
  - name: home
    type: zigbee2mqtt
    url: mqtts://broker:8883
    baseTopic: zigbee2mqtt
  - name: line-1
    type: modbus
    devices:
      - id: pump-01
        host: 10.0.0.5
        unitId: 3
        pollIntervalMs: 500
        points:
          - { metric: flow, table: holding, address: 0, type: float32, unit: m3/h, wordOrder: little }
          - { metric: running, table: coil, address: 0 }
`;

describe('parseConnectors', () => {
  it('reads every connector with its defaults', () => {
    const { connectors, problems } = parseConnectors(good);
    expect(problems).toEqual([]);
    expect(connectors.map((c) => [c.name, c.type])).toEqual([
      ['plant-a', 'mqtt'],
      ['home', 'zigbee2mqtt'],
      ['line-1', 'modbus'],
    ]);
    expect(connectors[0]).toMatchObject({ qos: 1, reconnect: { initialMs: 1000, maxMs: 30_000 } });
    expect(connectors[2]).toMatchObject({
      devices: [{ port: 502, points: [{ type: 'float32', scale: 1 }, { type: 'bool' }] }],
    });
  });

  it('names the connector, the key and what was expected for every problem', () => {
    const { problems } = parseConnectors(`
connectors:
  - name: plant-a
    type: mqtt
    url: http://broker
    qos: 2
    usename: x
    rules:
      - topic: plant/{device}/#/x
      - topic: plant/{dev}
        deviceId: '{device}'
  - name: line-1
    type: modbus
    devices:
      - id: p
        host: h
        points:
          - { metric: m, table: coil, address: 0, type: float32 }
  - name: Bad Name
    type: bacnet
`);
    expect(problems).toEqual([
      'connector "plant-a" (mqtt) url: expected an mqtt://, mqtts://, ws:// or wss:// URL, got "http://broker"',
      'connector "plant-a" (mqtt) qos: expected 0 or 1, got 2',
      'connector "plant-a" (mqtt) rules.0.topic: expected # only as the last level, got "plant/{device}/#/x"',
      'connector "plant-a" (mqtt) rules.1.deviceId: expected only captures of topic "plant/{dev}" ({dev}), not {device}, got "{device}"',
      // metric defaults to {metric}, which this topic does not capture either.
      'connector "plant-a" (mqtt) rules.1.metric: expected only captures of topic "plant/{dev}" ({dev}), not {metric}',
      'connector "plant-a" (mqtt) (connector): Unrecognized key: "usename"',
      'connector "line-1" (modbus) devices.0.points.0.type: expected bool for a coil, got "float32"',
      'connector #3 name: expected a lowercase name: letters, digits, _ and -, got "Bad Name"',
      'connector #3 type: Invalid option: expected one of "mqtt"|"zigbee2mqtt"|"modbus"|"opcua"|"home-assistant", got "bacnet"',
    ]);
  });

  it('refuses duplicate names and a file without a connectors list', () => {
    expect(
      parseConnectors(
        'connectors:\n  - {name: a, type: modbus, devices: [{id: d, host: h, points: [{metric: m, table: input, address: 1}]}]}\n  - {name: a, type: modbus, devices: [{id: d, host: h, points: [{metric: m, table: input, address: 1}]}]}',
      ).problems,
    ).toEqual(['connector "a" (modbus) name: expected a unique name, got a second "a"']);
    expect(parseConnectors('devices: []').problems).toEqual(['connectors: expected a list of connectors']);
  });
});

describe('connectorsConfigSection', () => {
  it('stops start-up through the config loader, naming the file and variable', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sentio-connectors-')), 'connectors.yaml');
    writeFileSync(
      file,
      'connectors:\n  - name: z\n    type: zigbee2mqtt\n    url: mqtt://b\n    baseTopic: z2m/#\n',
    );
    let error: unknown;
    try {
      loadConfig([connectorsConfigSection], { env: { SENTIO_CONNECTORS_FILE: file } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `connectors.file (env SENTIO_CONNECTORS_FILE): ${file}: connector "z" (zigbee2mqtt) baseTopic: expected a topic without wildcards, got "z2m/#", got "${file}"`,
    ]);
  });

  it('runs no connectors without a file', () => {
    expect(loadConfig([connectorsConfigSection], { env: {} }).connectors).toEqual({
      file: undefined,
      connectors: [],
    });
  });

  it('shares the devices only when a group is named, with a validated slot count and session timeout', () => {
    const env = { SENTIO_CONNECTORS_GROUP: 'plant-connectors' };
    expect(loadConfig([connectorsConfigSection], { env }).connectors.group).toEqual({
      id: 'plant-connectors',
      slots: 60,
      sessionTimeoutMs: 10_000,
      handoverMs: 2000,
    });
    expect(loadConfig([connectorsConfigSection], { env: {} }).connectors.group).toBeUndefined();
    let error: unknown;
    try {
      loadConfig([connectorsConfigSection], {
        env: {
          SENTIO_CONNECTORS_GROUP: 'bad group',
          SENTIO_CONNECTORS_GROUP_SLOTS: '0',
          SENTIO_CONNECTORS_GROUP_SESSION_TIMEOUT_MS: '1000',
        },
      });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(
        /^connectors\.group\.id \(env SENTIO_CONNECTORS_GROUP\): expected a Kafka group id/,
      ),
      expect.stringMatching(/^connectors\.group\.slots \(env SENTIO_CONNECTORS_GROUP_SLOTS\): /),
      expect.stringMatching(
        /^connectors\.group\.sessionTimeoutMs \(env SENTIO_CONNECTORS_GROUP_SESSION_TIMEOUT_MS\): expected at least 6000/,
      ),
    ]);
  });
});
