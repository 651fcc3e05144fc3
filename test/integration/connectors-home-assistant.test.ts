import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule } from '@sentio/avro';
import { ConnectorsModule, connectorDeadLetterHeaders, parseConnectors } from '@sentio/connectors';
import { deadLetterHeaders, KafkaModule } from '@sentio/kafka';
import { HealthRegistry, ObservabilityModule } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHomeAssistantCore } from '../../tools/peers/home-assistant-core.js';
import { startHomeAssistantServer } from '../../tools/peers/home-assistant-server.js';
import { sandbox, type Sandbox } from './support/backbone.js';
import { collect, until, type Collected } from './support/connector-harness.js';

const WRONG_TOKEN = 'llat-wrong-token-never-valid';

/** What the test does to Home Assistant, whichever one it is. */
interface HomeAssistantPeer {
  url: string;
  token: string;
  setState(
    entityId: string,
    state: string,
    attributes?: Record<string, unknown>,
  ): Promise<{ last_updated: string }>;
  removeEntity(entityId: string): Promise<void>;
  /** Breaks every WebSocket connection: the stand-in drops them, Core restarts. */
  interrupt(): Promise<void>;
  stop(): Promise<void>;
}

const initialStates: Array<[string, string, Record<string, unknown>]> = [
  [
    'sensor.living_temperature',
    '21.5',
    {
      unit_of_measurement: '°C',
      device_class: 'temperature',
      state_class: 'measurement',
      friendly_name: 'Living temperature',
    },
  ],
  [
    'sensor.boiler_pressure',
    'unavailable',
    { unit_of_measurement: 'bar', device_class: 'pressure', friendly_name: 'Boiler' },
  ],
  ['light.hall', 'off', { friendly_name: 'Hall' }],
  ['sensor.ignored_power', '100', { unit_of_measurement: 'W' }],
  ['sun.sun', 'above_horizon', { friendly_name: 'Sun' }],
];

const peers: Array<[string, () => Promise<HomeAssistantPeer>]> = [
  [
    'the stand-in (tools/peers/home-assistant-server.ts)',
    async () => {
      const server = await startHomeAssistantServer({
        token: 'llat-0123456789abcdef-secret',
        states: initialStates.map(([entity_id, state, attributes]) => ({ entity_id, state, attributes })),
      });
      return {
        url: server.url,
        token: 'llat-0123456789abcdef-secret',
        setState: async (id, state, attributes) => server.setState(id, state, attributes),
        removeEntity: async (id) => server.removeEntity(id),
        interrupt: async () => server.dropConnections(),
        stop: () => server.stop(),
      };
    },
  ],
  [
    'Home Assistant Core 2024.3.3 (tools/peers/home-assistant-core.ts)',
    async () => {
      const core = await startHomeAssistantCore();
      for (const [id, state, attributes] of initialStates) await core.setState(id, state, attributes);
      return {
        url: core.url,
        token: core.token,
        setState: (id, state, attributes) => core.setState(id, state, attributes),
        removeEntity: (id) => core.removeEntity(id),
        interrupt: () => core.restart(),
        stop: () => core.stop(),
      };
    },
  ],
];

describe.each(peers)('Home Assistant connector against %s', (_peer, startPeer) => {
  let box: Sandbox;
  let ha: HomeAssistantPeer;
  let app: INestApplicationContext;
  let got: Collected;
  const logLines: string[] = [];

  beforeAll(async () => {
    box = await sandbox('home_assistant');
    ha = await startPeer();
    process.env['SENTIO_TEST_HA_TOKEN'] = ha.token;
    const { connectors, problems } = parseConnectors(`
connectors:
  - name: home
    type: home-assistant
    url: ${ha.url}
    tokenEnv: SENTIO_TEST_HA_TOKEN
    domains: [sensor, light]
    exclude: ['sensor.ignored_*']
    reconnect: { initialMs: 100, maxMs: 400 }
    labels: { site: home }
  - name: intruder
    type: home-assistant
    url: ${ha.url}
    token: ${WRONG_TOKEN}
    reconnect: { initialMs: 100, maxMs: 400 }
`);
    expect(problems).toEqual([]);
    const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
    @Module({})
    class HomeAssistantTestRoot {}
    app = await NestFactory.createApplicationContext(
      {
        module: HomeAssistantTestRoot,
        imports: [
          ObservabilityModule.forRoot(logger),
          KafkaModule.forRoot(box.kafkaConfig, logger),
          AvroModule.forRoot({ registryUrl: process.env['SCHEMA_REGISTRY_URL']! }),
          ConnectorsModule.forRoot({ file: undefined, connectors }),
        ],
      },
      { logger: false },
    );
    await app.init();
    got = await collect(box);
  });

  afterAll(async () => {
    await got?.consumer.disconnect();
    await app?.close();
    await ha?.stop();
    delete process.env['SENTIO_TEST_HA_TOKEN'];
  });

  it('discovers the filtered entities from GET /api/states and publishes numeric states', async () => {
    await until(
      '3 discoveries',
      () => got.lifecycle.length >= 3,
      () => got.lifecycle,
    );
    expect(
      got.lifecycle
        .map(({ eventId: _, timestampMs: __, ...rest }) => rest)
        .sort((a, b) => a.deviceId.localeCompare(b.deviceId)),
    ).toEqual([
      {
        deviceId: 'light.hall',
        kind: 'DISCOVERED',
        deviceType: 'light',
        vendor: null,
        model: null,
        connector: 'home-assistant:home',
        online: true,
        labels: { site: 'home', friendly_name: 'Hall' },
        metrics: [],
      },
      {
        deviceId: 'sensor.boiler_pressure',
        kind: 'DISCOVERED',
        deviceType: 'sensor',
        vendor: null,
        model: null,
        connector: 'home-assistant:home',
        online: false,
        labels: { site: 'home', friendly_name: 'Boiler' },
        metrics: [{ name: 'pressure', unit: 'bar' }],
      },
      {
        deviceId: 'sensor.living_temperature',
        kind: 'DISCOVERED',
        deviceType: 'sensor',
        vendor: null,
        model: null,
        connector: 'home-assistant:home',
        online: true,
        labels: { site: 'home', friendly_name: 'Living temperature' },
        metrics: [{ name: 'temperature', unit: '°C' }],
      },
    ]);
    await until(
      'the first sample',
      () => got.telemetry.length >= 1,
      () => got.telemetry,
    );
    expect(got.telemetry[0]).toMatchObject({
      deviceId: 'sensor.living_temperature',
      metric: 'temperature',
      value: 21.5,
      unit: '°C',
      quality: 'GOOD',
      labels: { site: 'home', friendly_name: 'Living temperature' },
      source: 'home-assistant:home',
    });
  });

  it('turns state_changed events into samples, availability, logs and removals', async () => {
    const temperature = await ha.setState('sensor.living_temperature', '22.25');
    await ha.setState('sensor.boiler_pressure', '1.8');
    await ha.setState('light.hall', 'on');
    await ha.setState('sensor.ignored_power', '250');
    await ha.setState('sun.sun', 'below_horizon');
    await ha.removeEntity('light.hall');

    await until(
      'the changes',
      () =>
        got.telemetry.length >= 3 && got.logs.length >= 1 && got.lifecycle.some((e) => e.kind === 'REMOVED'),
      () => ({ telemetry: got.telemetry, logs: got.logs, lifecycle: got.lifecycle }),
    );
    // Each entity is its own Kafka key, so only one entity's events are ordered: compare sorted.
    const byDevice = <T extends { deviceId: string }>(list: T[]) =>
      [...list].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
    expect(byDevice(got.telemetry.slice(1)).map((s) => [s.deviceId, s.metric, s.value, s.unit])).toEqual([
      ['sensor.boiler_pressure', 'pressure', 1.8, 'bar'],
      ['sensor.living_temperature', 'temperature', 22.25, '°C'],
    ]);
    expect(got.telemetry.find((s) => s.value === 22.25)!.timestampMs).toBe(
      Date.parse(temperature.last_updated),
    );
    expect(byDevice(got.lifecycle.slice(3)).map((e) => [e.deviceId, e.kind, e.online])).toEqual([
      ['light.hall', 'REMOVED', false],
      ['sensor.boiler_pressure', 'ONLINE', true],
    ]);
    expect(got.logs.map((l) => [l.deviceId, l.severity, l.body, l.attributes])).toEqual([
      [
        'light.hall',
        'INFO',
        'light.hall changed from off to on',
        { site: 'home', friendly_name: 'Hall', state: 'on', old_state: 'off' },
      ],
    ]);
  });

  it('reconnects after the connection breaks, and keeps events flowing', async () => {
    await ha.interrupt();
    // Core forgets states set over REST when it restarts, so the entity comes back whole.
    await ha.setState('sensor.living_temperature', '23', initialStates[0]![2]);
    await until(
      'the sample after the reconnect',
      () => got.telemetry.some((s) => s.value === 23),
      () => got.telemetry,
    );
    // The snapshot read again on reconnect republishes current values under the same event ids.
    const ids = new Map(got.telemetry.map((s) => [`${s.deviceId}/${s.timestampMs}`, s.eventId]));
    for (const s of got.telemetry) expect(s.eventId).toBe(ids.get(`${s.deviceId}/${s.timestampMs}`));
    const health = await app.get(HealthRegistry).summary();
    expect(health.components['connector:home']?.state).toBe('up');
  });

  it('keeps retrying a refused token without publishing or logging it', async () => {
    const registry = app.get(HealthRegistry);
    let health = await registry.summary();
    const deadline = Date.now() + 60_000;
    while (!String(health.components['connector:intruder']?.detail?.['lastError']).includes('rejected')) {
      if (Date.now() > deadline) throw new Error(`no refusal reported: ${JSON.stringify(health)}`);
      await new Promise((r) => setTimeout(r, 50));
      health = await registry.summary();
    }
    expect(health.components['connector:intruder']).toMatchObject({
      state: 'degraded',
      detail: { lastError: expect.stringMatching(/access token rejected/) },
    });
    expect(got.lifecycle.every((e) => e.connector === 'home-assistant:home')).toBe(true);
    const logged = logLines.join('\n');
    expect(logged).toContain('Home Assistant connection failed');
    expect(logged).not.toContain(WRONG_TOKEN);
    expect(logged).not.toContain(ha.token);
    expect(JSON.stringify(health)).not.toContain(WRONG_TOKEN);
  });

  it('dead-letters a measurement whose state is no number, with the WebSocket message as sent', async () => {
    await ha.setState('sensor.cellar_humidity', 'n/a', {
      unit_of_measurement: '%',
      device_class: 'humidity',
      state_class: 'measurement',
    });
    await until(
      'the dead letter',
      () => got.dlq.length > 0,
      () => got.dlq.length,
    );
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    const letter = got.dlq[0]!;
    expect(header(letter, connectorDeadLetterHeaders.protocol)).toBe('home-assistant');
    expect(header(letter, connectorDeadLetterHeaders.origin)).toBe('api/states/sensor.cellar_humidity');
    expect(header(letter, deadLetterHeaders.sourceTopic)).toBe(
      'home-assistant:api/states/sensor.cellar_humidity',
    );
    expect(header(letter, deadLetterHeaders.component)).toBe('home');
    expect(header(letter, deadLetterHeaders.reason)).toMatch(/state "n\/a" is not a number/);
    expect(letter.key?.toString()).toBe('sensor.cellar_humidity');
    // The state_changed event message, byte for byte as Home Assistant sent it.
    const message = JSON.parse(letter.value!.toString()) as {
      type: string;
      event: { data: { new_state: { state: string } } };
    };
    expect(message.type).toBe('event');
    expect(message.event.data.new_state.state).toBe('n/a');
    expect(got.telemetry.some((s) => s.deviceId === 'sensor.cellar_humidity')).toBe(false);
  });
});
