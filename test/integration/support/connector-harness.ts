import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule, AvroSerde, EventCodec } from '@sentio/avro';
import { ConnectorsModule, parseConnectors } from '@sentio/connectors';
import {
  eventStreams,
  type DeviceLifecycle,
  type DeviceLogRecord,
  type EventStream,
  type TelemetrySample,
} from '@sentio/events';
import { KafkaModule } from '@sentio/kafka';
import { ObservabilityModule } from '@sentio/observability';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { expect } from 'vitest';
import { logger, type Sandbox } from './backbone.js';

// What every connector test needs: the connectors module in-process against a sandbox, and the sandbox's
// topics read back decoded.

export interface Collected {
  telemetry: TelemetrySample[];
  lifecycle: DeviceLifecycle[];
  logs: DeviceLogRecord[];
  dlq: KafkaMessage[];
  consumer: Consumer;
}

/** Reads the sandbox's event topics from the beginning, decoded, for as long as the test runs. */
export async function collect(box: Sandbox): Promise<Collected> {
  const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
  const codec = <T>(stream: EventStream<T>, topic: string) => EventCodec.register<T>(serde, stream, topic);
  const codecs = new Map<string, EventCodec<unknown>>([
    [
      box.topics.telemetry,
      (await codec(eventStreams.telemetry, box.topics.telemetry)) as EventCodec<unknown>,
    ],
    [
      box.topics.lifecycle,
      (await codec(eventStreams.lifecycle, box.topics.lifecycle)) as EventCodec<unknown>,
    ],
    [box.topics.logs, (await codec(eventStreams.logs, box.topics.logs)) as EventCodec<unknown>],
  ]);
  const consumer = box.kafka.consumer({ groupId: `reader-${box.namespace}` });
  const got: Collected = { telemetry: [], lifecycle: [], logs: [], dlq: [], consumer };
  const lists = new Map<string, unknown[]>([
    [box.topics.telemetry, got.telemetry],
    [box.topics.lifecycle, got.lifecycle],
    [box.topics.logs, got.logs],
  ]);
  await consumer.connect();
  await consumer.subscribe({ topics: [...codecs.keys(), box.topics.deadLetter], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (topic === box.topics.deadLetter) {
        got.dlq.push(message);
        return;
      }
      const c = codecs.get(topic)!;
      await c.prepare([message.value]);
      const decoded = c.decode(message.value);
      if (!decoded.ok) throw new Error(`undecodable record on ${topic}: ${decoded.reason}`);
      lists.get(topic)!.push(decoded.value);
    },
  });
  return got;
}

/** Waits until the condition holds; the bound only keeps a broken run from hanging. */
export async function until(what: string, condition: () => boolean, state: () => unknown): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`${what} never happened; have ${JSON.stringify(state(), null, 1)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startConnectors(box: Sandbox, yaml: string): Promise<INestApplicationContext> {
  const { connectors, problems } = parseConnectors(yaml);
  expect(problems).toEqual([]);
  @Module({})
  class ConnectorsTestRoot {}
  return NestFactory.createApplicationContext(
    {
      module: ConnectorsTestRoot,
      imports: [
        ObservabilityModule.forRoot(logger),
        KafkaModule.forRoot(box.kafkaConfig, logger),
        AvroModule.forRoot({ registryUrl: process.env['SCHEMA_REGISTRY_URL']! }),
        ConnectorsModule.forRoot({ file: undefined, connectors }),
      ],
    },
    { logger: false },
  );
}
