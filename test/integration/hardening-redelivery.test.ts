import { type INestApplicationContext } from '@nestjs/common';
import { connectorDeadLetterHeaders } from '@sentio/connectors';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Peer } from '../../tools/peers/peers.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { collect, startConnectors, until, type Collected } from './support/connector-harness.js';

const device = {
  ieee_address: '0x00158d0001a2b3c4',
  type: 'EndDevice',
  friendly_name: 'living_climate',
  definition: {
    model: 'WSDCGQ11LM',
    vendor: 'Aqara',
    exposes: [{ type: 'numeric', property: 'temperature', access: 1, unit: '°C' }],
  },
};

// "Redelivered bad messages land in the dead-letter topic several times": a message dead-lettered whose
// PUBACK was lost with its connection comes back from the broker, marked DUP, and must not be handled again;
// nor may a message still on its way to Kafka when it comes back.
describe('hardening: a redelivered message is handled once', () => {
  let box: Sandbox;
  let broker: Peer;
  let publisher: MqttClient;
  let app: INestApplicationContext | undefined;
  let got: Collected;

  beforeAll(async () => {
    box = await sandbox('hardening_redelivery');
    broker = await startMosquitto();
    got = await collect(box);
    app = await startConnectors(
      box,
      `
connectors:
  - name: home
    type: zigbee2mqtt
    url: mqtt://127.0.0.1:${broker.port}
    protocolVersion: 4
    baseTopic: z2m
    reconnect: { initialMs: 200, maxMs: 1000 }
`,
    );
  });

  afterAll(async () => {
    await app?.close();
    await got?.consumer.disconnect();
    await publisher?.endAsync();
    await broker?.stop();
  });

  it('dead-letters a bad message once and stores a good one once when the session moves', async () => {
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      clientId: 'test-publisher',
      reconnectPeriod: 200,
    });
    // No device list yet: the state message waits for it, and holds back the PUBACK of the bad message
    // behind it (acknowledgements go out in arrival order), which is dead-lettered at once.
    await publisher.publishAsync('z2m/living_climate', '{"temperature":21.5}', { qos: 1 });
    await publisher.publishAsync('z2m/bridge/state', 'half-open', { qos: 1 });
    const letters = () =>
      got.dlq.filter(
        (l) => l.headers?.[connectorDeadLetterHeaders.origin]?.toString() === 'z2m/bridge/state',
      );
    await until(
      'the bad message dead-lettered',
      () => letters().length === 1,
      () => got.dlq.length,
    );

    // The connection goes while both are unacknowledged: a client taking the session over (same client id,
    // as after a network split) makes the broker drop the connector's connection; when the connector takes
    // its session back, the broker sends both again, marked DUP. The intruder never acknowledges them.
    const intruder = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      clientId: 'sentio-home',
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
      manualConnect: true,
    });
    // Set before connecting: the broker sends the session's messages right after its CONNACK.
    intruder.handleMessage = () => undefined;
    intruder.connect();
    await new Promise<void>((resolve) => intruder.once('connect', () => resolve()));
    await new Promise((r) => setTimeout(r, 500));
    intruder.end(true);
    await new Promise((r) => setTimeout(r, 3000));
    await publisher.publishAsync('z2m/bridge/devices', JSON.stringify([device]), { qos: 1, retain: true });
    await until(
      'the waiting state message stored',
      () => got.telemetry.length >= 1,
      () => got.telemetry,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(letters()).toHaveLength(1);
    expect(got.telemetry.map((s) => [s.deviceId, s.metric, s.value])).toEqual([
      ['0x00158d0001a2b3c4', 'temperature', 21.5],
    ]);
  });
});
