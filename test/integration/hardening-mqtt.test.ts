import { createHash } from 'node:crypto';
import { type INestApplicationContext } from '@nestjs/common';
import { connectorDeadLetterHeaders } from '@sentio/connectors';
import { deadLetterHeaders } from '@sentio/kafka';
import { HealthRegistry } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModbusServer, startMosquitto, type Peer } from '../../tools/peers/peers.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { collect, startConnectors, until, type Collected } from './support/connector-harness.js';

// The denial of service of issue 8: one oversized or malformed MQTT message must neither stop its own
// connector nor any other, must be acknowledged (never redelivered forever) and dead-lettered once.

const config = (mqttPort: number, modbusPort: number) => `
connectors:
  - name: plant
    type: mqtt
    url: mqtt://127.0.0.1:${mqttPort}
    protocolVersion: 4
    reconnect: { initialMs: 200, maxMs: 2000 }
    rules:
      - topic: plant/{device}/{metric}
  - name: home
    type: zigbee2mqtt
    url: mqtt://127.0.0.1:${mqttPort}
    baseTopic: z2m
    # Above the 2 MB input: the message is taken, found unusable, and its dead letter is cut to fit Kafka.
    maxPayloadBytes: 4194304
    reconnect: { initialMs: 200, maxMs: 2000 }
  - name: pumps
    type: modbus
    reconnect: { initialMs: 200, maxMs: 1000 }
    devices:
      - id: plc-1
        host: 127.0.0.1
        port: ${modbusPort}
        unitId: 1
        pollIntervalMs: 200
        points:
          - { metric: flow, table: holding, address: 0, type: float32 }
`;

const climate = {
  ieee_address: '0x00158d0001a2b3c4',
  type: 'EndDevice',
  friendly_name: 'living_climate',
  definition: {
    model: 'WSDCGQ11LM',
    vendor: 'Aqara',
    description: 'Temperature, humidity and pressure sensor',
    exposes: [{ type: 'numeric', name: 'temperature', property: 'temperature', access: 1, unit: '°C' }],
  },
};

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('hardening: bad MQTT input never stops a connector', () => {
  let box: Sandbox;
  let broker: Peer;
  let modbus: Peer;
  let publisher: MqttClient;
  let app: INestApplicationContext | undefined;
  let got: Collected;
  let ticker: NodeJS.Timeout | undefined;
  const bySource = (source: string) => got.telemetry.filter((s) => s.source === source).length;
  const sources = ['mqtt:plant', 'zigbee2mqtt:home', 'modbus:pumps'];
  const counts = () => sources.map(bySource);

  beforeAll(async () => {
    box = await sandbox('hardening_mqtt');
    broker = await startMosquitto();
    modbus = await startModbusServer();
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'test-publisher' });
    await publisher.publishAsync('z2m/bridge/devices', JSON.stringify([climate]), { qos: 1, retain: true });
    got = await collect(box);
    app = await startConnectors(box, config(broker.port, modbus.port));
    // Devices keep publishing, as a plant does, through everything below.
    let tick = 0;
    ticker = setInterval(() => {
      tick++;
      void publisher.publishAsync('plant/p1/pressure', String(tick), { qos: 1 });
      void publisher.publishAsync('z2m/living_climate', JSON.stringify({ temperature: 20 + tick / 100 }), {
        qos: 1,
      });
    }, 100);
    await until('every connector delivering', () => counts().every((n) => n >= 5), counts);
  });

  afterAll(async () => {
    clearInterval(ticker);
    await app?.close();
    await got?.consumer.disconnect();
    await publisher?.endAsync();
    await broker?.stop();
    await modbus?.stop();
  });

  it('dead-letters oversized and malformed messages once, cut to fit, and every connector keeps delivering', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'x');
    const badList = Buffer.from('[{"ieee_address":5,"friendly_name":null}]');
    const before = counts();
    // Over plant's maxPayloadBytes (1 MiB by default): dead-lettered with its first 4 KiB.
    await publisher.publishAsync('plant/p1/pressure', big, { qos: 1 });
    // Under home's limit, but for an unknown device: its dead letter is cut to what a Kafka record holds.
    await publisher.publishAsync('z2m/garage_door', big, { qos: 1 });
    // A device list of the wrong types, not retained: refused, and the known list kept.
    await publisher.publishAsync('z2m/bridge/devices', badList, { qos: 1 });

    const letter = (origin: string) =>
      got.dlq.filter((l) => header(l, connectorDeadLetterHeaders.origin) === origin);
    await until(
      'three dead letters',
      () =>
        letter('plant/p1/pressure').length > 0 &&
        letter('z2m/garage_door').length > 0 &&
        letter('z2m/bridge/devices').length > 0,
      () => got.dlq.map((l) => header(l, deadLetterHeaders.reason)),
    );
    // During and after the bad input, every connector's telemetry keeps arriving.
    const during = counts();
    await until(
      'every connector delivering after the bad input',
      () => counts().every((n, i) => n >= during[i]! + 10),
      () => ({ before, during, now: counts() }),
    );

    const [oversized] = letter('plant/p1/pressure');
    expect(header(oversized!, deadLetterHeaders.reason)).toBe(
      'payload of 2097152 bytes exceeds maxPayloadBytes (1048576)',
    );
    expect(header(oversized!, deadLetterHeaders.component)).toBe('plant');
    expect(oversized!.value!.length).toBe(4096);
    expect(header(oversized!, deadLetterHeaders.valueBytes)).toBe(String(big.length));
    expect(header(oversized!, deadLetterHeaders.valueSha256)).toBe(sha256(big));
    expect(header(oversized!, deadLetterHeaders.truncated)).toBe('true');

    const [unknown] = letter('z2m/garage_door');
    expect(header(unknown!, deadLetterHeaders.reason)).toMatch(/^unknown device "garage_door"/);
    expect(unknown!.value!.length).toBeGreaterThan(900_000);
    expect(unknown!.value!.length).toBeLessThan(1_000_000);
    expect(unknown!.value!.equals(big.subarray(0, unknown!.value!.length))).toBe(true);
    expect(header(unknown!, deadLetterHeaders.valueSha256)).toBe(sha256(big));

    const [list] = letter('z2m/bridge/devices');
    expect(header(list!, deadLetterHeaders.reason)).toBe(
      'bridge/devices[0].ieee_address is 5, expected a string',
    );
    expect(list!.value!.equals(badList)).toBe(true);
    // The known device was not marked removed, and its readings are still telemetry, not "unknown device".
    expect(got.lifecycle.filter((e) => e.kind === 'REMOVED')).toEqual([]);
    expect(
      got.dlq.filter((l) => header(l, connectorDeadLetterHeaders.origin) === 'z2m/living_climate'),
    ).toEqual([]);

    // Acknowledged, so never redelivered: each bad message is in the DLQ exactly once, a while later too.
    await new Promise((r) => setTimeout(r, 3000));
    expect(got.dlq.length).toBe(3);

    const health = await app!.get(HealthRegistry).summary();
    for (const name of ['plant', 'home', 'pumps'])
      expect(health.components[`connector:${name}`]?.state, JSON.stringify(health.components)).toBe('up');
    expect(health.components['connector:plant']?.detail?.['lastSuccessAt']).toEqual(expect.any(String));
    expect(health.components['producer']?.state).toBe('up');

    // With its broker gone, an MQTT connector's health says so, and when it last got events through.
    clearInterval(ticker);
    await broker.stop();
    const plant = async () => (await app!.get(HealthRegistry).summary()).components['connector:plant'];
    const deadline = Date.now() + 20_000;
    while ((await plant())?.state === 'up' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const down = await plant();
    expect(down?.state).toBe('degraded');
    expect(down?.detail?.['reason']).toBe('not connected');
    expect(down?.detail?.['lastSuccessAt']).toEqual(expect.any(String));
    expect((await app!.get(HealthRegistry).summary()).components['connector:pumps']?.state).toBe('up');
  });
});
