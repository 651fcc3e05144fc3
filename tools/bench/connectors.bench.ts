/**
 * Throughput of the connectors into Kafka on this machine, against real peers: MQTT messages/s through one
 * and several broker sessions (Mosquitto), Modbus polls/s over 100 devices (the simulator's Modbus TCP
 * server), and OPC UA value changes/s over 10,000 monitored items (the simulator's node-opcua server).
 * Counts come from the connectors' own metrics, which count only what Kafka acknowledged. Prints figures
 * and where the time goes; asserts nothing.
 *
 *   node --import @swc-node/register/esm-register tools/bench/connectors.bench.ts [--seconds 10] [--messages 20000] [--backlog 2000] [--only mqtt|modbus|opcua]
 *
 * Needs Kafka, a schema registry (KAFKA_BROKERS, SCHEMA_REGISTRY_URL) and Mosquitto (tools/peers/install.sh).
 *
 * Where the time goes (2-core VM, `node --cpu-prof`):
 * - MQTT: a session keeps up to `maxInFlight` (100) messages with Kafka at once and acknowledges them in
 *   arrival order as they get through, so one produce round trip carries a batch: 5,000 messages ~10,000/s
 *   through one session, ~19,000/s through 4 (20,000 with no backlog bound: ~6,200/s and ~15,000/s), at
 *   40-80 µs CPU per message. Before, one message at a time waited for its own round trip (linger 5 ms
 *   included): ~170/s per session, ~580/s through 4, and a backlog of thousands cost the session its
 *   keepalive (see the backlog test in test/integration/connectors-mqtt.test.ts).
 * - Modbus: the 100 pollers keep their 50 ms schedule (~1950 of 2000 polls/s); ~155 µs CPU per poll
 *   with the server in the same process.
 * - OPC UA: the server thread (node-opcua sampling 10,000 items, access checks per read) is saturated and
 *   sets the rate; the connector thread is about half busy, its time split roughly half Kafka produce and
 *   Avro encoding, a sixth each for the mapping (event id hash included), GC and decoding notifications.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { avroConfigSection } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import { ConnectorsModule, parseConnectors } from '@sentio/connectors';
import { createKafka, ensureTopics, kafkaConfigSection, streamTopicSpecs } from '@sentio/kafka';
import { metricsRegistry } from '@sentio/observability';
import { Plant } from '@sentio/simulator';
import { ModbusRegisterMap, ModbusServerPeer, OpcuaServerPeer } from '@sentio/simulator/peers';
import mqtt from 'mqtt';
import { startMosquitto } from '../peers/peers.js';
import { benchLoggers, benchPlatformModules } from './bench-setup.util.js';

const { logger } = benchLoggers();
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    messages: { type: 'string', default: '20000' },
    backlog: { type: 'string', default: '2000' },
    only: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const MESSAGES = Number(args.messages);
const BACKLOG = Number(args.backlog);

const namespace = `bench-connectors-${randomBytes(3).toString('hex')}`;
const config = loadConfig([kafkaConfigSection, avroConfigSection], {
  env: { ...process.env, SENTIO_NAMESPACE: namespace },
});

async function startConnectors(yaml: string): Promise<INestApplicationContext> {
  const { connectors, problems } = parseConnectors(yaml);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  @Module({})
  class BenchRoot {}
  return NestFactory.createApplicationContext(
    {
      module: BenchRoot,
      imports: [
        ...benchPlatformModules(config.kafka, config.avro.registryUrl, logger),
        ConnectorsModule.forRoot({ file: undefined, connectors }),
      ],
    },
    { logger: false },
  );
}

/** A connector metric's total over the named connectors. */
async function total(metric: string, connectors: string[], stream?: string): Promise<number> {
  const values = (await metricsRegistry.getSingleMetric(metric)?.get())?.values ?? [];
  return values
    .filter((v) => connectors.includes(String(v.labels['connector'])))
    .filter((v) => stream === undefined || v.labels['stream'] === stream)
    .reduce((sum, v) => sum + v.value, 0);
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('benchmark stalled');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

function report(name: string, figures: Record<string, string | number>): void {
  console.log(`\n${name}`);
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(34)} ${v}`);
}

/**
 * MQTT: MESSAGES QoS 1 publishes, spread over `sessions` connectors (one topic subtree each), timed from the
 * first publish until Kafka acknowledged every sample.
 */
async function benchMqtt(port: number, sessions: number): Promise<void> {
  const names = Array.from({ length: sessions }, (_, i) => `bench-mqtt-${sessions}-${i}`);
  const app = await startConnectors(`
connectors:
${names
  .map(
    (name, i) => `  - name: ${name}
    type: mqtt
    url: mqtt://127.0.0.1:${port}
    clientId: ${name}-${namespace}
    qos: 1
    rules:
      - topic: bench${sessions}/${i}/{device}/{metric}`,
  )
  .join('\n')}
`);
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: `bench-pub-${sessions}`,
  });
  const acknowledged = () => total('sentio_connector_events_out_total', names, 'telemetry');
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let sent = 0; sent < MESSAGES;) {
    // Keeps the backlog at the broker bounded (--backlog): the publisher runs ahead by at most that many.
    while (sent - (await acknowledged()) > BACKLOG) await new Promise((r) => setTimeout(r, 5));
    const burst = Array.from({ length: Math.min(500, MESSAGES - sent) }, (_, k) => sent + k);
    await Promise.all(
      burst.map((i) =>
        publisher.publishAsync(
          `bench${sessions}/${i % sessions}/dev-${i % 100}/temperature`,
          String(20 + (i % 50) / 10),
          { qos: 1 },
        ),
      ),
    );
    sent += burst.length;
  }
  const published = performance.now();
  await waitFor(
    async () => (await total('sentio_connector_events_out_total', names, 'telemetry')) >= MESSAGES,
  );
  const seconds = (performance.now() - started) / 1000;
  report(`MQTT, ${sessions} session(s), ${MESSAGES} QoS 1 messages`, {
    'messages/s into Kafka': Math.round(MESSAGES / seconds),
    'publisher done after (s)': ((published - started) / 1000).toFixed(2),
    'last acknowledged after (s)': seconds.toFixed(2),
    'CPU per message (µs, whole process)': ((cpuMs(cpu) * 1000) / MESSAGES).toFixed(1),
  });
  await publisher.endAsync();
  await app.close();
}

/** Modbus: 100 devices on one TCP server (one unit id each), 5 float32 points, polled every 50 ms. */
async function benchModbus(): Promise<void> {
  const plant = new Plant({ devices: 100, seed: 1 });
  const devices = plant.devices();
  const map = new ModbusRegisterMap(devices);
  map.update(devices, plant.sample(Date.now()));
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const server = await ModbusServerPeer.start(map, port, '127.0.0.1');
  const app = await startConnectors(`
connectors:
  - name: bench-modbus
    type: modbus
    devices:
${devices
  .map(
    (d, i) => `      - id: ${d.id}
        host: 127.0.0.1
        port: ${port}
        unitId: ${i + 1}
        pollIntervalMs: 50
        points:
${d.metrics.map((m, k) => `          - { metric: ${m.name}, table: holding, address: ${k * 2}, type: float32 }`).join('\n')}`,
  )
  .join('\n')}
`);
  const before = await total('sentio_connector_messages_in_total', ['bench-modbus']);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const polls = (await total('sentio_connector_messages_in_total', ['bench-modbus'])) - before;
  const seconds = (performance.now() - started) / 1000;
  report('Modbus TCP, 100 devices x 5 float32, poll every 50 ms', {
    'polls/s (block reads)': Math.round(polls / seconds),
    'offered polls/s': 2000,
    'samples/s into Kafka': Math.round((polls * 5) / seconds),
    'CPU per poll (µs, incl. server)': ((cpuMs(cpu) * 1000) / polls).toFixed(1),
  });
  await app.close();
  await server.stop();
}

const OPCUA_DEVICES = 1000;
const OPCUA_METRICS = 10;

/**
 * The OPC UA server of the benchmark, in a worker thread of its own: in the connector's thread its
 * sampling (node-opcua reads every monitored value each sampling interval) took half the CPU and the
 * figure measured the server. Every round sets all 10,000 variables, then waits 100 ms.
 */
async function opcuaServerWorker(): Promise<void> {
  const { port, pkiFolder, seconds } = workerData as { port: number; pkiFolder: string; seconds: number };
  const server = await OpcuaServerPeer.start({ port, pkiFolder });
  const set = (round: number) => {
    for (let d = 0; d < OPCUA_DEVICES; d++)
      for (let m = 0; m < OPCUA_METRICS; m++) server.set(`dev-${d}`, `m${m}`, round + d / 1000 + m);
  };
  set(0);
  parentPort!.on('message', async (command: string) => {
    if (command === 'stop') {
      await server.stop();
      parentPort!.close();
      return;
    }
    let round = 1;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      set(round++);
      await new Promise((r) => setTimeout(r, 100));
    }
    parentPort!.postMessage({ offered: (round - 1) * OPCUA_DEVICES * OPCUA_METRICS });
  });
  parentPort!.postMessage('ready');
}

/** OPC UA: 1,000 devices x 10 variables, every one changed each round, all monitored by one connector. */
async function benchOpcua(): Promise<void> {
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { port, pkiFolder: mkdtempSync(join(tmpdir(), 'bench-opcua-')), seconds: SECONDS },
    argv: process.argv.slice(2),
  });
  const next = () => once(worker, 'message').then(([message]) => message as unknown);
  await next();
  const setupStarted = performance.now();
  const app = await startConnectors(`
connectors:
  - name: bench-opcua
    type: opcua
    endpointUrl: opc.tcp://127.0.0.1:${port}/sentio
    pki: { folder: ${mkdtempSync(join(tmpdir(), 'bench-opcua-client-'))} }
    subscription: { publishingIntervalMs: 100 }
    monitoring: { samplingIntervalMs: 100, queueSize: 1 }
    browse:
      - path: Plant/{device}/{metric}
`);
  const setupSeconds = (performance.now() - setupStarted) / 1000;
  const items = OPCUA_DEVICES * OPCUA_METRICS;
  const out = () => total('sentio_connector_events_out_total', ['bench-opcua'], 'telemetry');
  await waitFor(async () => (await out()) >= items);
  const before = await out();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  worker.postMessage('run');
  const { offered } = (await next()) as { offered: number };
  const seconds = (performance.now() - started) / 1000;
  const changed = (await out()) - before;
  const busy = performance.eventLoopUtilization(elu).utilization;
  report('OPC UA, 10,000 monitored items, all changing every ~100 ms (server in a worker thread)', {
    'browse + 10,000 monitored items (s)': setupSeconds.toFixed(2),
    'value changes/s into Kafka': Math.round(changed / seconds),
    'offered changes/s': Math.round(offered / seconds),
    'connector thread busy (%)': (busy * 100).toFixed(0),
    'connector thread per change (µs)': ((busy * seconds * 1e6) / changed).toFixed(1),
    'CPU per change, both threads (µs)': ((cpuMs(cpu) * 1000) / changed).toFixed(1),
  });
  await app.close();
  worker.postMessage('stop');
  await once(worker, 'exit');
}

const run = (part: string) => args.only === undefined || args.only === part;
if (!isMainThread) {
  await opcuaServerWorker();
} else {
  await ensureTopics(createKafka(config.kafka, logger, 'bench'), streamTopicSpecs(config.kafka), logger);
  if (run('mqtt')) {
    const mosquitto = await startMosquitto();
    try {
      await benchMqtt(mosquitto.port, 1);
      await benchMqtt(mosquitto.port, 4);
    } finally {
      await mosquitto.stop();
    }
  }
  if (run('modbus')) await benchModbus();
  if (run('opcua')) await benchOpcua();
  process.exit(0);
}
