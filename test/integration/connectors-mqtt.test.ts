import { type INestApplicationContext } from '@nestjs/common';
import { connectorDeadLetterHeaders } from '@sentio/connectors';
import { deadLetterHeaders } from '@sentio/kafka';
import { HealthRegistry, metricsRegistry } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Peer } from '../../tools/peers/peers.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { collect, until, startConnectors, type Collected } from './support/connector-harness.js';

const config = (port: number) => `
connectors:
  - name: plant
    type: mqtt
    url: mqtt://127.0.0.1:${port}
    protocolVersion: 4
    labels: { site: test }
    reconnect: { initialMs: 200, maxMs: 2000 }
    rules:
      - topic: plant/{device}/running
        format: boolean
        metric: running
      - topic: plant/{device}/{metric}
        unit: bar
      - topic: lines/{line}/state
        format: json
        deviceId: line-{line}
        timestamp: { path: $.ts }
        values:
          - { path: $.flow, metric: flow, unit: m3/h }
          - { path: $.on, metric: pump_on }
  - name: home
    type: zigbee2mqtt
    url: mqtt://127.0.0.1:${port}
    baseTopic: z2m
`;

/** <base>/bridge/devices as Zigbee2MQTT 2.x publishes it (retained), trimmed to the fields that matter. */
const bridgeDevices = [
  {
    ieee_address: '0x00124b0000000001',
    type: 'Coordinator',
    network_address: 0,
    friendly_name: 'Coordinator',
    supported: true,
    disabled: false,
    definition: null,
    interview_completed: true,
  },
  {
    ieee_address: '0x00158d0001a2b3c4',
    type: 'EndDevice',
    network_address: 29159,
    friendly_name: 'living_climate',
    supported: true,
    disabled: false,
    power_source: 'Battery',
    model_id: 'lumi.weather',
    interview_completed: true,
    definition: {
      model: 'WSDCGQ11LM',
      vendor: 'Aqara',
      description: 'Temperature, humidity and pressure sensor',
      exposes: [
        {
          type: 'numeric',
          name: 'battery',
          property: 'battery',
          access: 1,
          unit: '%',
          category: 'diagnostic',
        },
        { type: 'numeric', name: 'temperature', property: 'temperature', access: 1, unit: '°C' },
        { type: 'numeric', name: 'humidity', property: 'humidity', access: 1, unit: '%' },
        { type: 'numeric', name: 'linkquality', property: 'linkquality', access: 1, unit: 'lqi' },
      ],
      options: [],
    },
  },
  {
    ieee_address: '0x0017880104e45517',
    type: 'Router',
    network_address: 4321,
    friendly_name: 'hall_light',
    supported: true,
    disabled: false,
    power_source: 'Mains (single phase)',
    interview_completed: true,
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
        { type: 'numeric', name: 'linkquality', property: 'linkquality', access: 1, unit: 'lqi' },
      ],
      options: [],
    },
  },
];

const withoutIds = <T extends { eventId: string; timestampMs: number }>(events: T[]) =>
  events.map(({ eventId: _id, timestampMs: _ts, ...rest }) => rest);

/** Events are keyed by device, so only one device's events keep their order across partitions. */
const byDevice = <T extends { deviceId: string }>(events: T[]) =>
  [...events].sort((a, b) => a.deviceId.localeCompare(b.deviceId));

describe('connectors: MQTT and Zigbee2MQTT into Kafka', () => {
  let box: Sandbox;
  let broker: Peer;
  let publisher: MqttClient;
  let app: INestApplicationContext | undefined;
  let got: Collected;
  const malformed: Array<{ topic: string; payload: string; reason: RegExp; component: string }> = [
    {
      topic: 'plant/pump-1/pressure',
      payload: 'abc',
      reason: /payload "abc" is not a number/,
      component: 'plant',
    },
    {
      topic: 'lines/7/state',
      payload: '{"ts": 1764000000000, "flow": "high"}',
      reason: /\$\.flow is "high", expected a number or boolean/,
      component: 'plant',
    },
    {
      topic: 'z2m/living_climate',
      payload: 'not json',
      reason: /state is not valid JSON/,
      component: 'home',
    },
    {
      // The state is published; the message goes to the DLQ for the value that is no number.
      topic: 'z2m/hall_light',
      payload: '{"state":"ON","brightness":"dim"}',
      reason: /^brightness is "dim", expected a number$/,
      component: 'home',
    },
    {
      topic: 'z2m/garage_door',
      payload: '{"contact": true}',
      reason: /unknown device "garage_door"/,
      component: 'home',
    },
  ];

  beforeAll(async () => {
    box = await sandbox('connectors_mqtt');
    broker = await startMosquitto();
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'test-publisher' });
    // The bridge's retained topics exist before the connector starts, as with a running Zigbee2MQTT.
    await publisher.publishAsync('z2m/bridge/devices', JSON.stringify(bridgeDevices), {
      qos: 1,
      retain: true,
    });
    await publisher.publishAsync('z2m/bridge/state', '{"state":"online"}', { qos: 1, retain: true });
    got = await collect(box);
    app = await startConnectors(box, config(broker.port));
  });

  afterAll(async () => {
    await app?.close();
    await got?.consumer.disconnect();
    await publisher?.endAsync();
    await broker?.stop();
  });

  it('maps generic and Zigbee2MQTT payloads to exact events', async () => {
    const send = (topic: string, payload: string) => publisher.publishAsync(topic, payload, { qos: 1 });
    await send('plant/pump-1/pressure', '4.25');
    await send('plant/pump-1/running', 'true');
    await send('lines/7/state', '{"ts": 1764000000000, "flow": 12.5, "on": false}');
    await send('z2m/living_climate/availability', '{"state":"online"}');
    await send('z2m/hall_light/availability', 'offline');
    await send(
      'z2m/living_climate',
      '{"battery":97,"humidity":45.2,"linkquality":120,"temperature":21.3,"voltage":3005}',
    );
    await send(
      'z2m/hall_light',
      '{"brightness":200,"color":{"x":0.46,"y":0.41},"color_mode":"xy","state":"ON"}',
    );
    await send('z2m/hall_light/set', '{"state":"OFF"}');
    await send(
      'z2m/bridge/logging',
      '{"level":"warning","message":"Failed to ping \'hall_light\'","namespace":"z2m"}',
    );

    await until(
      'telemetry',
      () => got.telemetry.length >= 11,
      () => got.telemetry,
    );
    await until(
      'lifecycle',
      () => got.lifecycle.length >= 4,
      () => got.lifecycle,
    );
    await until(
      'logs',
      () => got.logs.length >= 2,
      () => got.logs,
    );

    const plant = { labels: { site: 'test' }, quality: 'GOOD', source: 'mqtt:plant' };
    const climate = {
      deviceId: '0x00158d0001a2b3c4',
      labels: { friendly_name: 'living_climate' },
      quality: 'GOOD',
      source: 'zigbee2mqtt:home',
    };
    const light = {
      deviceId: '0x0017880104e45517',
      labels: { friendly_name: 'hall_light' },
      quality: 'GOOD',
      source: 'zigbee2mqtt:home',
    };
    expect(byDevice(withoutIds(got.telemetry))).toEqual(
      byDevice([
        { ...plant, deviceId: 'pump-1', metric: 'pressure', value: 4.25, unit: 'bar' },
        { ...plant, deviceId: 'pump-1', metric: 'running', value: 1, unit: null },
        { ...plant, deviceId: 'line-7', metric: 'flow', value: 12.5, unit: 'm3/h' },
        { ...plant, deviceId: 'line-7', metric: 'pump_on', value: 0, unit: null },
        { ...climate, metric: 'battery', value: 97, unit: '%' },
        { ...climate, metric: 'temperature', value: 21.3, unit: '°C' },
        { ...climate, metric: 'humidity', value: 45.2, unit: '%' },
        { ...climate, metric: 'linkquality', value: 120, unit: 'lqi' },
        { ...light, metric: 'state', value: 1, unit: null },
        { ...light, metric: 'brightness', value: 200, unit: null },
        { ...light, metric: 'color_x', value: 0.46, unit: null },
        { ...light, metric: 'color_y', value: 0.41, unit: null },
      ]),
    );
    expect(got.telemetry.filter((s) => s.deviceId === 'line-7').map((s) => s.timestampMs)).toEqual([
      1_764_000_000_000, 1_764_000_000_000,
    ]);

    const device = {
      connector: 'zigbee2mqtt:home',
      deviceType: 'zigbee_end_device',
      vendor: 'Aqara',
      model: 'WSDCGQ11LM',
      labels: { friendly_name: 'living_climate' },
      deviceId: '0x00158d0001a2b3c4',
      metrics: [
        { name: 'battery', unit: '%' },
        { name: 'temperature', unit: '°C' },
        { name: 'humidity', unit: '%' },
        { name: 'linkquality', unit: 'lqi' },
      ],
    };
    const lamp = {
      connector: 'zigbee2mqtt:home',
      deviceType: 'zigbee_router',
      vendor: 'Philips',
      model: '9290012573A',
      labels: { friendly_name: 'hall_light' },
      deviceId: '0x0017880104e45517',
      metrics: [
        { name: 'state', unit: null },
        { name: 'brightness', unit: null },
        { name: 'color_x', unit: null },
        { name: 'color_y', unit: null },
        { name: 'linkquality', unit: 'lqi' },
      ],
    };
    expect(byDevice(withoutIds(got.lifecycle))).toEqual(
      byDevice([
        { ...device, kind: 'DISCOVERED', online: true },
        { ...lamp, kind: 'DISCOVERED', online: true },
        { ...device, kind: 'ONLINE', online: true },
        { ...lamp, kind: 'OFFLINE', online: false },
      ]),
    );

    const bridgeLog = {
      deviceId: 'zigbee2mqtt:home',
      source: 'zigbee2mqtt:home',
      traceId: null,
      spanId: null,
    };
    expect(withoutIds(got.logs)).toEqual([
      {
        ...bridgeLog,
        severity: 'INFO',
        body: 'bridge online',
        attributes: { state: 'online', base_topic: 'z2m' },
      },
      {
        ...bridgeLog,
        severity: 'WARN',
        body: "Failed to ping 'hall_light'",
        attributes: { namespace: 'z2m', base_topic: 'z2m' },
      },
    ]);

    const health = await app!.get(HealthRegistry).summary();
    expect(health.components['connector:plant']?.state).toBe('up');
    expect(health.components['connector:home']?.state).toBe('up');
  });

  it('dead-letters malformed payloads byte for byte with the reason and the MQTT origin', async () => {
    for (const m of malformed) await publisher.publishAsync(m.topic, m.payload, { qos: 1 });
    await until(
      'dead letters',
      () => got.dlq.length >= malformed.length,
      () => got.dlq.length,
    );
    expect(got.dlq).toHaveLength(malformed.length);
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    for (const m of malformed) {
      // Two connectors dead-letter independently: found by origin, not by position.
      const letter = got.dlq.find((l) => header(l, connectorDeadLetterHeaders.origin) === m.topic)!;
      expect(letter.value?.toString()).toBe(m.payload);
      expect(header(letter, deadLetterHeaders.reason)).toMatch(m.reason);
      expect(header(letter, deadLetterHeaders.component)).toBe(m.component);
      expect(header(letter, deadLetterHeaders.sourceTopic)).toBe(`mqtt:${m.topic}`);
      expect(header(letter, deadLetterHeaders.sourcePartition)).toBe('-1');
      expect(header(letter, deadLetterHeaders.sourceOffset)).toBe('-1');
      expect(header(letter, connectorDeadLetterHeaders.protocol)).toBe('mqtt');
      expect(header(letter, connectorDeadLetterHeaders.origin)).toBe(m.topic);
    }
  });

  it('loses nothing published at QoS 1 while the connector was stopped', async () => {
    await app!.close();
    app = undefined;
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const v of values) await publisher.publishAsync('plant/pump-2/pressure', String(v), { qos: 1 });
    await publisher.publishAsync('z2m/living_climate', '{"temperature":19.5}', { qos: 1 });

    app = await startConnectors(box, config(broker.port));
    const pump2 = () => got.telemetry.filter((s) => s.deviceId === 'pump-2');
    const climate = () =>
      got.telemetry.filter((s) => s.deviceId === '0x00158d0001a2b3c4' && s.value === 19.5);
    await until(
      'queued messages',
      () => pump2().length >= values.length && climate().length >= 1,
      () => pump2().length,
    );
    expect(pump2().map((s) => s.value)).toEqual(values);
    expect(climate().map((s) => s.metric)).toEqual(['temperature']);
  });
});

/** A connector metric's value for one connector; 0 before it was first counted. */
async function connectorMetric(metric: string, connector: string): Promise<number> {
  const values = (await metricsRegistry.getSingleMetric(metric)?.get())?.values ?? [];
  return values.filter((v) => v.labels['connector'] === connector).reduce((sum, v) => sum + v.value, 0);
}

describe('connectors: an MQTT persistent session coming back to a large QoS 1 backlog', () => {
  const BACKLOG = 5000;
  let box: Sandbox;
  let broker: Peer;
  let publisher: MqttClient;
  let app: INestApplicationContext | undefined;
  let got: Collected;
  // A short keepalive: the session must keep answering PINGRESPs while it works through the backlog.
  const backlogConfig = (port: number) => `
connectors:
  - name: backlog
    type: mqtt
    url: mqtt://127.0.0.1:${port}
    protocolVersion: 4
    keepaliveSeconds: 2
    reconnect: { initialMs: 200, maxMs: 2000 }
    rules:
      - topic: backlog/{device}/{metric}
`;

  beforeAll(async () => {
    box = await sandbox('connectors_mqtt_backlog');
    broker = await startMosquitto();
    publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'backlog-publisher' });
    got = await collect(box);
  });

  afterAll(async () => {
    await app?.close();
    await got?.consumer.disconnect();
    await publisher?.endAsync();
    await broker?.stop();
  });

  it('delivers every queued message exactly once without losing its session', async () => {
    // The first start makes the persistent session and its subscription; then the connector goes away.
    app = await startConnectors(box, backlogConfig(broker.port));
    await app.close();
    app = undefined;
    for (let from = 1; from <= BACKLOG; from += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, BACKLOG - from + 1) }, (_, k) =>
          publisher.publishAsync(`backlog/dev-${(from + k) % 10}/level`, String(from + k), { qos: 1 }),
        ),
      );
    }

    const reconnectsBefore = await connectorMetric('sentio_connector_reconnects_total', 'backlog');
    app = await startConnectors(box, backlogConfig(broker.port));
    expect((await app.get(HealthRegistry).summary()).components['connector:backlog']?.state).toBe('up');
    await until(
      'the backlog in Kafka',
      () => got.telemetry.length >= BACKLOG,
      () => got.telemetry.length,
    );
    // A PINGRESP stuck behind the backlog would have cost the session: reconnects, redeliveries.
    expect(await connectorMetric('sentio_connector_reconnects_total', 'backlog')).toBe(reconnectsBefore);
    const values = got.telemetry.map((s) => s.value);
    expect(values).toHaveLength(BACKLOG);
    expect(new Set(values).size).toBe(BACKLOG);
    // Per device, Kafka has the values in the order they were published.
    for (let d = 0; d < 10; d++) {
      const device = got.telemetry.filter((s) => s.deviceId === `dev-${d}`).map((s) => s.value!);
      expect(device).toEqual([...device].sort((a, b) => a - b));
    }
  });
});
