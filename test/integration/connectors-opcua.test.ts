import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type INestApplicationContext } from '@nestjs/common';
import {
  connectorDeadLetterHeaders,
  connectorTypes,
  parseConnectors,
  type ConnectorContext,
} from '@sentio/connectors';
import { type TelemetrySample } from '@sentio/events';
import { deadLetterHeaders } from '@sentio/kafka';
import { OpcuaServerPeer } from '@sentio/simulator/peers';
import type { KafkaMessage } from 'kafkajs';
import { BinaryStream, DataType, DataValue, StatusCodes } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAsyncuaServer } from '../../tools/peers/asyncua-peer.js';
import type { Peer } from '../../tools/peers/peers.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { freePort } from './support/platform-process.js';
import { collect, until, startConnectors, type Collected } from './support/connector-harness.js';

const fields = ({ deviceId, metric, value, unit, quality, labels, source }: TelemetrySample) => ({
  deviceId,
  metric,
  value,
  unit,
  quality,
  labels,
  source,
});

describe('connectors: OPC UA against node-opcua, Basic256Sha256 SignAndEncrypt, username/password', () => {
  let box: Sandbox;
  let server: OpcuaServerPeer;
  let app: INestApplicationContext | undefined;
  let got: Collected;
  const serverPki = mkdtempSync(join(tmpdir(), 'sentio-opcua-server-'));
  const clientPki = mkdtempSync(join(tmpdir(), 'sentio-opcua-client-'));
  const users = { operator: 'pump-room-7' };
  let port: number;

  const serve = async () => {
    server = await OpcuaServerPeer.start({
      port,
      pkiFolder: serverPki,
      users,
      securityPolicies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
    });
  };

  /** One connector outside Nest, its telemetry kept in memory: for checks that need no Kafka. */
  const standalone = (yaml: string) => {
    const { connectors, problems } = parseConnectors(yaml);
    expect(problems).toEqual([]);
    const sent: TelemetrySample[] = [];
    const context = {
      sink: {
        telemetry: async (s: TelemetrySample[]) => void sent.push(...s),
        lifecycle: async () => undefined,
        logs: async () => undefined,
        deadLetter: async () => undefined,
      },
      metrics: {
        messageIn: () => undefined,
        eventsOut: () => undefined,
        error: () => undefined,
        reconnect: () => undefined,
      },
      logger,
    } as unknown as ConnectorContext;
    return { connector: connectorTypes.opcua.create(connectors[0] as never, context), sent };
  };

  const config = () => `
connectors:
  - name: plant-opcua
    type: opcua
    endpointUrl: opc.tcp://127.0.0.1:${port}/sentio
    securityPolicy: Basic256Sha256
    securityMode: SignAndEncrypt
    identity: { type: username, username: operator, password: ${users.operator} }
    pki: { folder: ${clientPki}, trustedServerCertificates: [${server.certificateFile}] }
    reconnect: { initialMs: 200, maxMs: 1000 }
    subscription: { publishingIntervalMs: 100 }
    monitoring: { samplingIntervalMs: 50, queueSize: 100 }
    labels: { site: test }
    browse:
      - path: Plant/{device}/{metric}
    nodes:
      - { nodeId: 'ns=1;s=pump-01.flow', deviceId: pump-01, metric: flow_rate, unit: m3/h }
`;

  beforeAll(async () => {
    box = await sandbox('connectors_opcua');
    port = await freePort();
    await serve();
    server.set('pump-01', 'flow', 12.5);
    server.set('pump-01', 'running', true);
    server.set('pump-02', 'temperature', 40.25, StatusCodes.UncertainSensorNotAccurate);
    server.set('pump-02', 'pressure', 3.5, StatusCodes.BadSensorFailure);
    got = await collect(box);
    app = await startConnectors(box, config());
  });

  afterAll(async () => {
    await app?.close();
    await got?.consumer.disconnect();
    await server?.stop();
  });

  it('creates its certificate, trusts the listed server certificate and maps values and status codes', async () => {
    expect(existsSync(join(clientPki, 'own', 'certs', 'client_certificate.pem'))).toBe(true);
    const first = () => {
      const seen = new Map<string, TelemetrySample>();
      for (const s of got.telemetry)
        if (!seen.has(`${s.deviceId}/${s.metric}`)) seen.set(`${s.deviceId}/${s.metric}`, s);
      return seen;
    };
    await until(
      'a value of every variable',
      () => first().size === 4,
      () => got.telemetry.map(fields),
    );
    const base = { labels: { site: 'test' }, source: 'opcua:plant-opcua', unit: null };
    expect(
      [...first().values()]
        .map(fields)
        .sort((a, b) => `${a.deviceId}/${a.metric}`.localeCompare(`${b.deviceId}/${b.metric}`)),
    ).toEqual([
      // The explicit node wins over the browsed pump-01/flow: one series per device and metric.
      { ...base, deviceId: 'pump-01', metric: 'flow_rate', value: 12.5, unit: 'm3/h', quality: 'GOOD' },
      { ...base, deviceId: 'pump-01', metric: 'running', value: 1, quality: 'GOOD' },
      { ...base, deviceId: 'pump-02', metric: 'pressure', value: null, quality: 'BAD' },
      { ...base, deviceId: 'pump-02', metric: 'temperature', value: 40.25, quality: 'UNCERTAIN' },
    ]);
    await until(
      'ONLINE for both devices',
      () => got.lifecycle.filter((e) => e.kind === 'ONLINE').length === 2,
      () => got.lifecycle,
    );
    // Lifecycle is keyed by device: order holds per device, not across them.
    const history = (device: string) =>
      got.lifecycle.filter((e) => e.deviceId === device).map((e) => [e.kind, e.online]);
    expect(history('pump-01')).toEqual([
      ['DISCOVERED', false],
      ['ONLINE', true],
    ]);
    expect(history('pump-02')).toEqual([
      ['DISCOVERED', false],
      ['ONLINE', true],
    ]);
    expect(got.lifecycle.find((e) => e.deviceId === 'pump-01')!.metrics).toEqual([
      { name: 'flow_rate', unit: 'm3/h' },
      { name: 'running', unit: null },
    ]);
  });

  it('sends each change with its source timestamp', async () => {
    const at = new Date(Date.now() - 1000);
    server.set('pump-01', 'flow', 13.75, StatusCodes.Good, at);
    await until(
      'the change',
      () => got.telemetry.some((s) => s.value === 13.75),
      () => got.telemetry.map(fields),
    );
    expect(got.telemetry.find((s) => s.value === 13.75)).toMatchObject({
      metric: 'flow_rate',
      timestampMs: at.getTime(),
    });
  });

  it('survives a server restart: OFFLINE, then the subscription resumes and values keep flowing', async () => {
    await server.stop();
    await until(
      'OFFLINE',
      () => got.lifecycle.some((e) => e.kind === 'OFFLINE'),
      () => got.lifecycle,
    );
    await serve();
    server.set('pump-01', 'flow', 99.5);
    server.set('pump-01', 'running', false);
    server.set('pump-02', 'temperature', 41, StatusCodes.Good);
    server.set('pump-02', 'pressure', 3.5, StatusCodes.BadSensorFailure);
    await until(
      'a value after the restart',
      () => got.telemetry.some((s) => s.value === 99.5),
      () => got.telemetry.slice(-10).map(fields),
    );
    await until(
      'the others after the restart',
      () => got.telemetry.some((s) => s.metric === 'temperature' && s.value === 41),
      () => got.telemetry.slice(-10).map(fields),
    );
    const kinds = got.lifecycle.filter((e) => e.deviceId === 'pump-01').map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['OFFLINE', 'ONLINE']);
    server.set('pump-01', 'flow', 100.25);
    await until(
      'values keep flowing',
      () => got.telemetry.some((s) => s.value === 100.25),
      () => got.telemetry.slice(-10).map(fields),
    );
  });

  it('speaks the other policies and modes, and takes an X.509 user identity', async () => {
    const user = mkdtempSync(join(tmpdir(), 'sentio-opcua-user-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=operator',
        '-addext',
        'keyUsage=digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment',
        '-keyout',
        join(user, 'key.pem'),
        '-out',
        join(user, 'cert.pem'),
      ],
      // node-opcua-pki points OPENSSL_CONF at its own configuration for its CA work: not for this one.
      { stdio: 'pipe', env: { ...process.env, OPENSSL_CONF: undefined } },
    );
    const variants = [
      [
        'Aes128_Sha256_RsaOaep',
        'Sign',
        `{ type: username, username: operator, password: ${users.operator} }`,
      ],
      [
        'Aes256_Sha256_RsaPss',
        'SignAndEncrypt',
        `{ type: certificate, certificate: ${join(user, 'cert.pem')}, privateKey: ${join(user, 'key.pem')} }`,
      ],
    ];
    for (const [policy, mode, identity] of variants) {
      const yaml = config()
        .replace('securityPolicy: Basic256Sha256', `securityPolicy: ${policy}`)
        .replace('securityMode: SignAndEncrypt', `securityMode: ${mode}`)
        .replace(/identity: .*/, `identity: ${identity}`);
      const { connector, sent } = standalone(yaml);
      await connector.start();
      try {
        await until(
          `values over ${policy}/${mode}`,
          () => sent.length > 0,
          () => connector.health(),
        );
        expect(connector.health().state).toBe('up');
      } finally {
        await connector.stop();
      }
    }
  });

  it('has the server filter changes inside the deadband', async () => {
    server.set('pump-03', 'level', 10);
    const { connector, sent } = standalone(`
connectors:
  - name: deadband
    type: opcua
    endpointUrl: opc.tcp://127.0.0.1:${port}/sentio
    securityPolicy: Basic256Sha256
    securityMode: Sign
    identity: { type: username, username: operator, password: ${users.operator} }
    pki: { folder: ${clientPki}, trustedServerCertificates: [${server.certificateFile}] }
    subscription: { publishingIntervalMs: 100 }
    nodes:
      - nodeId: 'ns=1;s=pump-03.level'
        deviceId: pump-03
        metric: level
        samplingIntervalMs: 0
        deadband: { type: absolute, value: 1 }
`);
    await connector.start();
    try {
      await until(
        'the first value',
        () => sent.length > 0,
        () => connector.health(),
      );
      server.set('pump-03', 'level', 10.5);
      server.set('pump-03', 'level', 10.9);
      // Gives the server publishing cycles to (wrongly) report the small changes; a pass never depends on it.
      await new Promise((r) => setTimeout(r, 500));
      server.set('pump-03', 'level', 12);
      await until(
        'the change past the deadband',
        () => sent.some((s) => s.value === 12),
        () => sent,
      );
      expect(sent.map((s) => s.value)).toEqual([10, 12]);
    } finally {
      await connector.stop();
    }
  });

  it('refuses a server certificate nobody trusted, and files it under rejected/', async () => {
    const pki = mkdtempSync(join(tmpdir(), 'sentio-opcua-untrusting-'));
    const { connector, sent } = standalone(
      config().replace(
        `pki: { folder: ${clientPki}, trustedServerCertificates: [${server.certificateFile}] }`,
        `pki: { folder: ${pki} }`,
      ),
    );
    await connector.start();
    try {
      expect(connector.health()).toMatchObject({
        state: 'down',
        detail: { error: expect.stringMatching(/^server certificate [0-9A-F:]+ is not trusted/) },
      });
      expect(readdirSync(join(pki, 'rejected')).length).toBe(1);
      expect(sent).toEqual([]);
    } finally {
      await connector.stop();
    }
  });
});

describe('connectors: OPC UA against asyncua (Python), browsing and subscribing', () => {
  let box: Sandbox;
  let server: Peer & { endpointUrl: string };
  let app: INestApplicationContext | undefined;
  let got: Collected;

  beforeAll(async () => {
    box = await sandbox('connectors_asyncua');
    server = await startAsyncuaServer();
    got = await collect(box);
    app = await startConnectors(
      box,
      `
connectors:
  - name: boilers
    type: opcua
    endpointUrl: ${server.endpointUrl}
    pki: { folder: ${mkdtempSync(join(tmpdir(), 'sentio-opcua-asyncua-'))} }
    subscription: { publishingIntervalMs: 100 }
    monitoring: { samplingIntervalMs: 50, queueSize: 100 }
    browse:
      - { path: 'Boiler/{device}/{metric}', deviceId: 'boiler-{device}' }
`,
    );
  });

  afterAll(async () => {
    await app?.close();
    await got?.consumer.disconnect();
    await server?.stop();
  });

  it('discovers the variables by browsing and maps values, types and status codes', async () => {
    const metric = (m: string) => got.telemetry.filter((s) => s.metric === m);
    await until(
      'five counter steps',
      () => metric('Counter').length >= 5,
      () => got.telemetry.map(fields),
    );
    await until(
      'every numeric variable',
      () => ['Setpoint', 'Burner', 'Pressure', 'Flame'].every((m) => metric(m).length > 0),
      () => got.telemetry.map(fields),
    );
    const base = { labels: {}, source: 'opcua:boilers', unit: null };
    expect(fields(metric('Setpoint')[0]!)).toEqual({
      ...base,
      deviceId: 'boiler-Boiler1',
      metric: 'Setpoint',
      value: 72.5,
      quality: 'GOOD',
    });
    expect(fields(metric('Burner')[0]!)).toEqual({
      ...base,
      deviceId: 'boiler-Boiler1',
      metric: 'Burner',
      value: 1,
      quality: 'GOOD',
    });
    expect(fields(metric('Pressure')[0]!)).toEqual({
      ...base,
      deviceId: 'boiler-Boiler2',
      metric: 'Pressure',
      value: 1.25,
      quality: 'UNCERTAIN',
    });
    expect(fields(metric('Flame')[0]!)).toEqual({
      ...base,
      deviceId: 'boiler-Boiler2',
      metric: 'Flame',
      value: null,
      quality: 'BAD',
    });
    // The counter steps by one: consecutive changes arrive, none skipped (the queue holds what sampling saw).
    const counts = metric('Counter').map((s) => s.value!);
    expect(counts.slice(1)).toEqual(counts.slice(1).map((_, i) => counts[1]! + i));
    expect(metric('Label')).toEqual([]);
    // The String variable is no sample: its value goes to the DLQ, as the server encoded it.
    await until(
      'the dead letter of Label',
      () => got.dlq.length > 0,
      () => got.dlq.length,
    );
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    const letter = got.dlq[0]!;
    expect(header(letter, connectorDeadLetterHeaders.protocol)).toBe('opcua');
    expect(header(letter, connectorDeadLetterHeaders.origin)).toBe('ns=2;s=Boiler2.Label');
    expect(header(letter, connectorDeadLetterHeaders.opcuaNodeId)).toBe('ns=2;s=Boiler2.Label');
    expect(header(letter, connectorDeadLetterHeaders.opcuaStatusCode)).toBe('Good (0x00000000)');
    expect(header(letter, connectorDeadLetterHeaders.opcuaDataType)).toBe('String');
    expect(header(letter, deadLetterHeaders.sourceTopic)).toBe('opcua:ns=2;s=Boiler2.Label');
    expect(header(letter, deadLetterHeaders.component)).toBe('boilers');
    expect(header(letter, deadLetterHeaders.reason)).toBe(
      'ns=2;s=Boiler2.Label (Label): a String is not a sample value, got "north"',
    );
    expect(letter.key?.toString()).toBe('boiler-Boiler2');
    const decoded = new DataValue();
    decoded.decode(new BinaryStream(letter.value!));
    expect([decoded.value.dataType, decoded.value.value]).toEqual([DataType.String, 'north']);
    expect(got.logs).toEqual([]);
    await until(
      'lifecycle',
      () => got.lifecycle.length === 4,
      () => got.lifecycle,
    );
    const history = (device: string) => got.lifecycle.filter((e) => e.deviceId === device).map((e) => e.kind);
    expect(history('boiler-Boiler1')).toEqual(['DISCOVERED', 'ONLINE']);
    expect(history('boiler-Boiler2')).toEqual(['DISCOVERED', 'ONLINE']);
    expect(
      got.lifecycle
        .find((e) => e.deviceId === 'boiler-Boiler1')!
        .metrics.map((m) => m.name)
        .sort(),
    ).toEqual(['Burner', 'Counter', 'Setpoint']);
  });
});
