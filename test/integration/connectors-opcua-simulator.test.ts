import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule, AvroSerde, EventCodec } from '@sentio/avro';
import { ConnectorsModule, parseConnectors } from '@sentio/connectors';
import { eventStreams, type TelemetrySample } from '@sentio/events';
import { KafkaModule } from '@sentio/kafka';
import { ObservabilityModule } from '@sentio/observability';
import { Plant, type SimulatedSample } from '@sentio/simulator';
import {
  ModbusRegisterMap,
  ModbusServerPeer,
  MqttPublisherPeer,
  OpcuaServerPeer,
} from '@sentio/simulator/peers';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Peer } from '../../tools/peers/peers.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { freePort } from './support/platform-process.js';

/** Part of the connectors file in libs/connectors/README.md ("Reading the simulator"), on this test's ports. */
const readme = (
  mqttPort: number,
  modbusPort: number,
  opcuaPort: number,
  pki: string,
  serverCertificate: string,
) => `
connectors:
  - name: sim-json
    type: mqtt
    url: mqtt://127.0.0.1:${mqttPort}
    rules:
      - topic: sentio-sim/pump/{device}
        format: json
        timestamp: { path: $.ts, format: ms }
        values:
          - { path: $.flow_rate, metric: flow_rate, unit: m3/h }
          - { path: $.discharge_pressure, metric: discharge_pressure, unit: bar }
  - name: sim-zigbee
    type: zigbee2mqtt
    url: mqtt://127.0.0.1:${mqttPort}
    baseTopic: zigbee2mqtt-sim
  - name: sim-modbus
    type: modbus
    devices:
      - id: pump-0001
        host: 127.0.0.1
        port: ${modbusPort}
        unitId: 1
        pollIntervalMs: 200
        points:
          - { metric: flow_rate, table: holding, address: 0, type: float32, unit: m3/h }
          - { metric: discharge_pressure, table: holding, address: 2, type: float32, unit: bar }
  - name: sim-opcua
    type: opcua
    endpointUrl: opc.tcp://127.0.0.1:${opcuaPort}/sentio
    securityPolicy: Basic256Sha256
    securityMode: SignAndEncrypt
    pki: { folder: ${pki}, trustedServerCertificates: [${serverCertificate}] }
    subscription: { publishingIntervalMs: 100 }
    monitoring: { samplingIntervalMs: 50, queueSize: 100 }
    browse:
      - path: Plant/{device}/{metric}
`;

describe('the simulator over MQTT, Zigbee2MQTT, Modbus TCP and OPC UA, read back by the connectors', () => {
  let box: Sandbox;
  let mosquitto: Peer;
  let modbus: ModbusServerPeer;
  let opcua: OpcuaServerPeer;
  let mqtt: MqttPublisherPeer;
  let app: INestApplicationContext | undefined;
  let consumer: Consumer;
  const received: TelemetrySample[] = [];
  const sent: SimulatedSample[] = [];
  const plant = new Plant({ devices: 5, seed: 3, startMs: Date.now() });
  const devices = plant.devices();
  const map = new ModbusRegisterMap(devices);
  let ticker: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    box = await sandbox('connectors_simulator');
    mosquitto = await startMosquitto();
    const modbusPort = await freePort();
    modbus = await ModbusServerPeer.start(map, modbusPort, '127.0.0.1');
    opcua = await OpcuaServerPeer.start({
      port: await freePort(),
      pkiFolder: mkdtempSync(join(tmpdir(), 'sentio-sim-opcua-')),
      securityPolicies: ['Basic256Sha256'],
      addressSpace: 'mini',
    });
    // It listens where it says it does: the endpoint it advertises is the address it is bound to.
    expect(opcua.endpointUrl).toMatch(/^opc\.tcp:\/\/127\.0\.0\.1:\d+\/sentio$/);
    mqtt = await MqttPublisherPeer.start(
      { url: `mqtt://127.0.0.1:${mosquitto.port}`, prefix: 'sentio-sim', z2mBaseTopic: 'zigbee2mqtt-sim' },
      devices,
    );
    const tick = () => {
      const samples = plant.sample(Date.now());
      sent.push(...samples);
      map.update(devices, samples);
      opcua.publish(samples);
      return mqtt.publish(samples);
    };
    await tick();
    const { connectors, problems } = parseConnectors(
      readme(
        mosquitto.port,
        modbusPort,
        Number(new URL(opcua.endpointUrl.replace('opc.tcp', 'http')).port),
        mkdtempSync(join(tmpdir(), 'sentio-sim-client-')),
        opcua.certificateFile,
      ),
    );
    expect(problems).toEqual([]);
    const codec = await EventCodec.register<TelemetrySample>(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.telemetry,
      box.topics.telemetry,
    );
    consumer = box.kafka.consumer({ groupId: `reader-${box.namespace}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [box.topics.telemetry], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        await codec.prepare([message.value]);
        const decoded = codec.decode(message.value);
        if (decoded.ok) received.push(decoded.value);
      },
    });
    @Module({})
    class SimulatorTestRoot {}
    app = await NestFactory.createApplicationContext(
      {
        module: SimulatorTestRoot,
        imports: [
          ObservabilityModule.forRoot(logger),
          KafkaModule.forRoot(box.kafkaConfig, logger),
          AvroModule.forRoot({ registryUrl: process.env['SCHEMA_REGISTRY_URL']! }),
          ConnectorsModule.forRoot({ file: undefined, connectors }),
        ],
      },
      { logger: false },
    );
    ticker = setInterval(() => void tick(), 200);
  });

  afterAll(async () => {
    clearInterval(ticker);
    await app?.close();
    await consumer?.disconnect();
    await mqtt?.stop();
    await opcua?.stop();
    await modbus?.stop();
    await mosquitto?.stop();
  });

  it('delivers the plant values unchanged through every protocol', async () => {
    const from = (source: string) => received.filter((s) => s.source === source);
    const deadline = Date.now() + 90_000;
    const sources = ['mqtt:sim-json', 'zigbee2mqtt:sim-zigbee', 'modbus:sim-modbus', 'opcua:sim-opcua'];
    while (!sources.every((s) => from(s).length >= 10)) {
      if (Date.now() > deadline)
        throw new Error(`have ${JSON.stringify(sources.map((s) => [s, from(s).length]))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const at = new Map(sent.map((s) => [`${s.deviceId}/${s.metric}/${s.timestampMs}`, s.value]));
    const values = (device: string, metric: string) =>
      new Set(sent.filter((s) => s.deviceId === device && s.metric === metric).map((s) => s.value));
    // JSON and OPC UA carry the sample time: each value is the plant's at exactly that instant.
    for (const s of [...from('mqtt:sim-json'), ...from('opcua:sim-opcua')]) {
      expect([s.deviceId, s.metric, s.value]).toEqual([
        s.deviceId,
        s.metric,
        at.get(`${s.deviceId}/${s.metric}/${s.timestampMs}`),
      ]);
    }
    expect(new Set(from('opcua:sim-opcua').map((s) => s.deviceId))).toEqual(
      new Set(devices.map((d) => d.id)),
    );
    // Zigbee2MQTT and Modbus are stamped on receipt or poll: each value is one the plant produced.
    const env = devices.find((d) => d.type === 'environment_sensor')!;
    for (const s of from('zigbee2mqtt:sim-zigbee')) {
      expect(s.deviceId).toBe('0x00124b0000000004');
      expect(s.labels).toEqual({ friendly_name: env.id });
      expect(values(env.id, s.metric).has(s.value)).toBe(true);
    }
    for (const s of from('modbus:sim-modbus')) {
      const float32 = new Set([...values('pump-0001', s.metric)].map((v) => Math.fround(v!)));
      expect(float32.has(s.value!)).toBe(true);
    }
  });
});
