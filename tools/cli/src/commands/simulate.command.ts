import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AvroSerde, avroConfigSection, EventCodec } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import {
  eventStreams,
  type DeviceLifecycle,
  type DeviceLogRecord,
  type Span,
  type TelemetrySample,
} from '@sentio/events';
import {
  createKafka,
  ensureTopics,
  eventTopics,
  EventProducer,
  kafkaConfigSection,
  streamTopicSpecs,
} from '@sentio/kafka';
import { createLogger, progressReporter, type Logger } from '@sentio/observability';
import {
  parseFaultSpec,
  Plant,
  PlantJournal,
  type CycleTiming,
  type SimulatedDevice,
  type SimulatedSample,
} from '@sentio/simulator';
import {
  MAX_MODBUS_UNITS,
  ModbusRegisterMap,
  ModbusServerPeer,
  MqttPublisherPeer,
  OpcuaServerPeer,
} from '@sentio/simulator/peers';
import type { Command } from './command.type.js';

/** Where one tick's samples go: Kafka, and each protocol the simulator serves. */
interface Output {
  name?: string;
  publish(samples: SimulatedSample[]): Promise<void> | void;
  stop(): Promise<void>;
  /** Kafka only: the plant's log lines and the trace of each publish cycle (see PlantJournal). */
  journal?(logs: DeviceLogRecord[], spans: Span[]): Promise<void>;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary:
    'Run a simulated plant: Avro telemetry and lifecycle to Kafka, and its values over MQTT, Modbus TCP and OPC UA.',
  usage:
    '[--devices 100] [--interval-ms 1000] [--duration-s 0 (forever)] [--seed 1] [--fault pump-0003:bearing_wear@+10m ...] ' +
    '[--mqtt mqtt://host:1883] [--mqtt-prefix sentio-sim] [--z2m-base-topic zigbee2mqtt-sim] ' +
    '[--modbus-port 5020] [--opcua-port 4840] [--opcua-pki .sentio/opcua-simulator-pki] [--no-kafka]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      allowNegative: true,
      options: {
        devices: { type: 'string', default: '100' },
        'interval-ms': { type: 'string', default: '1000' },
        'duration-s': { type: 'string', default: '0' },
        seed: { type: 'string', default: '1' },
        fault: { type: 'string', multiple: true, default: [] },
        kafka: { type: 'boolean', default: true },
        mqtt: { type: 'string' },
        'mqtt-prefix': { type: 'string', default: 'sentio-sim' },
        'z2m-base-topic': { type: 'string', default: 'zigbee2mqtt-sim' },
        'modbus-port': { type: 'string' },
        'opcua-port': { type: 'string' },
        'opcua-pki': { type: 'string', default: '.sentio/opcua-simulator-pki' },
      },
    });
    const devices = positiveInt(values.devices, '--devices');
    const intervalMs = positiveInt(values['interval-ms'], '--interval-ms');
    const durationS = Number(values['duration-s']);
    if (!Number.isFinite(durationS) || durationS < 0)
      throw new Error(`--duration-s expects seconds >= 0, got ${values['duration-s']}`);
    const now = Date.now();
    const faults = values.fault.map((spec) => parseFaultSpec(spec, now));
    const logger = createLogger('simulator');
    const plant = new Plant({
      devices,
      seed: Number(values.seed),
      startMs: now,
      faults,
      source: 'simulator',
    });

    const outputs: Output[] = [];
    if (values.kafka) outputs.push(await kafkaOutput(plant.devices(), now, logger));
    const journal = new PlantJournal({ devices: plant.devices(), faults, source: 'simulator' });
    if (values.mqtt) {
      const mqtt = await MqttPublisherPeer.start(
        { url: values.mqtt, prefix: values['mqtt-prefix'], z2mBaseTopic: values['z2m-base-topic'] },
        plant.devices(),
      );
      outputs.push(mqtt);
      logger.info(
        {
          url: values.mqtt,
          json: `${values['mqtt-prefix']}/<kind>/<device>`,
          zigbee2mqtt: values['z2m-base-topic'],
        },
        'publishing to MQTT',
      );
    }
    if (values['modbus-port'] !== undefined) {
      const port = positiveInt(values['modbus-port'], '--modbus-port');
      const map = new ModbusRegisterMap(plant.devices());
      const server = await ModbusServerPeer.start(map, port);
      outputs.push({ publish: (samples) => map.update(plant.devices(), samples), stop: () => server.stop() });
      logger.info({ port, units: Math.min(devices, MAX_MODBUS_UNITS) }, 'serving Modbus TCP');
    }
    if (values['opcua-port'] !== undefined) {
      const port = positiveInt(values['opcua-port'], '--opcua-port');
      const server = await OpcuaServerPeer.start({
        port,
        pkiFolder: resolve(values['opcua-pki']),
        securityPolicies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'],
        addressSpace: 'mini',
      });
      outputs.push({ publish: (samples) => server.publish(samples), stop: () => server.stop() });
      logger.info({ endpoint: server.endpointUrl, certificate: server.certificateFile }, 'serving OPC UA');
    }
    if (outputs.length === 0) throw new Error('--no-kafka needs --mqtt, --modbus-port or --opcua-port');
    logger.info({ devices, intervalMs, faults: values.fault }, 'simulating');

    const progress = progressReporter(
      logger,
      'simulate',
      durationS > 0 ? Math.floor((durationS * 1000) / intervalMs) : undefined,
    );
    let stopped = false;
    const stop = () => (stopped = true);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const deadline = durationS > 0 ? now + durationS * 1000 : Infinity;
    let tick = now;
    while (!stopped && tick < deadline) {
      const startedMs = preciseNow();
      const samples = plant.sample(tick);
      const lines = journal.logsAt(tick, samples);
      const timing: CycleTiming = {
        tickMs: tick,
        startedMs,
        sampledMs: preciseNow(),
        samples: samples.length,
        outputs: [],
      };
      await Promise.all(outputs.map((o) => timed(o, samples, timing)));
      const { logs, spans } = journal.cycle(timing, lines);
      await Promise.all(outputs.map((o) => o.journal?.(logs, spans)));
      progress.advance(1);
      tick += intervalMs;
      const wait = tick - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    progress.done();
    for (const output of outputs) await output.stop();
    return 0;
  },
};

/** Avro telemetry and lifecycle events to Kafka, the way the real connectors send them. */
async function kafkaOutput(devices: SimulatedDevice[], now: number, logger: Logger): Promise<Output> {
  const config = loadConfig([kafkaConfigSection, avroConfigSection]);
  const topics = eventTopics(config.kafka.namespace);
  const kafka = createKafka(config.kafka, logger, 'sentio-simulator');
  await ensureTopics(kafka, streamTopicSpecs(config.kafka), logger);
  const serde = AvroSerde.forUrl(config.avro.registryUrl);
  const telemetry = await EventCodec.register<TelemetrySample>(
    serde,
    eventStreams.telemetry,
    topics.telemetry,
  );
  const lifecycle = await EventCodec.register<DeviceLifecycle>(
    serde,
    eventStreams.lifecycle,
    topics.lifecycle,
  );
  const producer = new EventProducer(kafka, config.kafka.producer, logger);
  await producer.connect();
  await producer.send(
    topics.lifecycle,
    devices.map((d) => ({
      key: d.id,
      value: lifecycle.encode({
        eventId: `${d.id}-discovered`,
        deviceId: d.id,
        timestampMs: now,
        kind: 'DISCOVERED',
        deviceType: d.type,
        vendor: d.vendor,
        model: d.model,
        connector: 'simulator',
        online: true,
        labels: d.labels,
        metrics: d.metrics,
      }),
    })),
  );
  const logs = await EventCodec.register<DeviceLogRecord>(serde, eventStreams.logs, topics.logs);
  const spans = await EventCodec.register<Span>(serde, eventStreams.spans, topics.spans);
  logger.info({ topic: topics.telemetry }, 'producing to Kafka');
  return {
    name: 'kafka',
    journal: async (records, trace) => {
      await producer.send(
        topics.logs,
        records.map((r) => ({ key: r.deviceId, value: logs.encode(r) })),
      );
      await producer.send(
        topics.spans,
        trace.map((s) => ({ key: s.traceId, value: spans.encode(s) })),
      );
    },
    publish: (samples) =>
      producer.send(
        topics.telemetry,
        samples.map((s) => ({ key: s.deviceId, value: telemetry.encode(s) })),
      ),
    stop: () => producer.disconnect(),
  };
}

/** Publishes one tick to one output, timing it for the cycle's trace; a failure still fails the run. */
async function timed(output: Output, samples: SimulatedSample[], timing: CycleTiming): Promise<void> {
  const startedMs = preciseNow();
  try {
    await output.publish(samples);
    timing.outputs.push({ name: output.name ?? 'peer', startedMs, endedMs: preciseNow() });
  } catch (error) {
    timing.outputs.push({
      name: output.name ?? 'peer',
      startedMs,
      endedMs: preciseNow(),
      error: String(error),
    });
    throw error;
  }
}

/** Wall-clock milliseconds with sub-millisecond precision: sampling a small plant takes well under 1 ms. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${flag} expects a positive whole number, got ${value}`);
  return n;
}
