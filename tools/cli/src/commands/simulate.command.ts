import { parseArgs } from 'node:util';
import { AvroSerde, avroConfigSection, EventCodec } from '@sentio/avro';
import { loadConfig } from '@sentio/config';
import { eventStreams, type DeviceLifecycle, type TelemetrySample } from '@sentio/events';
import {
  createKafka,
  ensureTopics,
  eventTopics,
  EventProducer,
  kafkaConfigSection,
  streamTopicSpecs,
} from '@sentio/kafka';
import { createLogger, progressReporter } from '@sentio/observability';
import { parseFaultSpec, Plant } from '@sentio/simulator';
import type { Command } from './command.type.js';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Run a simulated plant that produces Avro telemetry and device lifecycle events to Kafka.',
  usage:
    '[--devices 100] [--interval-ms 1000] [--duration-s 0 (forever)] [--seed 1] [--fault pump-0003:bearing_wear@+10m ...]',
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        devices: { type: 'string', default: '100' },
        'interval-ms': { type: 'string', default: '1000' },
        'duration-s': { type: 'string', default: '0' },
        seed: { type: 'string', default: '1' },
        fault: { type: 'string', multiple: true, default: [] },
      },
    });
    const devices = positiveInt(values.devices, '--devices');
    const intervalMs = positiveInt(values['interval-ms'], '--interval-ms');
    const durationS = Number(values['duration-s']);
    if (!Number.isFinite(durationS) || durationS < 0)
      throw new Error(`--duration-s expects seconds >= 0, got ${values['duration-s']}`);
    const now = Date.now();
    const faults = values.fault.map((spec) => parseFaultSpec(spec, now));

    const config = loadConfig([kafkaConfigSection, avroConfigSection]);
    const logger = createLogger('simulator');
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

    const plant = new Plant({
      devices,
      seed: Number(values.seed),
      startMs: now,
      faults,
      source: 'simulator',
    });
    await producer.send(
      topics.lifecycle,
      plant.devices().map((d) => ({
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
    logger.info({ devices, intervalMs, faults: values.fault, topic: topics.telemetry }, 'simulating');

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
      const samples = plant.sample(tick);
      await producer.send(
        topics.telemetry,
        samples.map((s) => ({ key: s.deviceId, value: telemetry.encode(s) })),
      );
      progress.advance(1);
      tick += intervalMs;
      const wait = tick - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    progress.done();
    await producer.disconnect();
    return 0;
  },
};

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${flag} expects a positive whole number, got ${value}`);
  return n;
}
