import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AvroModule } from '@sentio/avro';
import type { TelemetrySample } from '@sentio/events';
import {
  consumerLag,
  deadLetterHeaders,
  KafkaModule,
  StreamHandler,
  type StreamBatch,
  type StreamGroup,
} from '@sentio/kafka';
import { HealthRegistry, ObservabilityModule } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger, sandbox, telemetry, telemetryProducer, type Sandbox } from './support/backbone.js';

const GOOD = 500;

/** Two groups on the same stream: one commits per batch, one commits by hand half of what it saw. */
@Injectable()
class Handlers {
  readonly seen: TelemetrySample[] = [];
  readonly manual: string[] = [];
  assigned = 0;
  drained = false;
  group: StreamGroup | undefined;

  constructor(readonly namespace: string) {}

  @StreamHandler({
    streams: ['telemetry'],
    group: (self: Handlers) => `${self.namespace}-batch`,
    component: 'test-batch',
    onAssignment: (self: Handlers, assigned) => (self.assigned += assigned.length),
    drain: async (self: Handlers) => void (self.drained = true),
  })
  async onBatch(batch: StreamBatch<TelemetrySample>): Promise<void> {
    for (const { value } of await batch.decode()) this.seen.push(value);
  }

  @StreamHandler({
    streams: ['telemetry'],
    group: (self: Handlers) => `${self.namespace}-manual`,
    component: 'test-manual',
    commit: 'manual',
  })
  async onManual(batch: StreamBatch<TelemetrySample>, group: StreamGroup): Promise<void> {
    this.group = group;
    for (const m of batch.messages) this.manual.push(`${batch.partition}:${m.offset}`);
  }
}

describe('@StreamHandler: handlers found at boot, one consumer per group, commits, dead letters, health', () => {
  let box: Sandbox;
  let app: INestApplicationContext;
  let handlers: Handlers;
  const deadLetters: KafkaMessage[] = [];

  beforeAll(async () => {
    box = await sandbox('stream_handler');
    const { codec, producer, send } = await telemetryProducer(box);
    const records = telemetry(GOOD).map((s) => ({ key: s.deviceId, value: codec.encode(s) }));
    // Three records that are not Avro of a known schema, among the good ones.
    records.splice(10, 0, { key: 'x', value: Buffer.from('not avro') });
    records.splice(200, 0, { key: 'x', value: (records[0]!.value as Buffer).subarray(0, 8) });
    records.splice(400, 0, { key: 'x', value: Buffer.alloc(2) });
    await send(records);
    await producer.disconnect();

    const dlq = box.kafka.consumer({ groupId: `${box.namespace}-dlq-reader` });
    await dlq.connect();
    await dlq.subscribe({ topics: [box.topics.deadLetter], fromBeginning: true });
    await dlq.run({ eachMessage: async ({ message }) => void deadLetters.push(message) });

    @Module({ providers: [{ provide: Handlers, useFactory: () => new Handlers(box.namespace) }] })
    class HandlersModule {}
    @Module({})
    class TestRoot {}
    app = await NestFactory.createApplicationContext(
      {
        module: TestRoot,
        imports: [
          { module: ObservabilityModule },
          KafkaModule.forRoot(box.kafkaConfig, logger),
          AvroModule.forRoot({ registryUrl: process.env['SCHEMA_REGISTRY_URL']! }),
          HandlersModule,
        ],
      },
      { logger: false },
    );
    await app.init();
    handlers = app.get(Handlers);
    const deadline = Date.now() + 60_000;
    while (handlers.seen.length < GOOD || deadLetters.length < 3 || handlers.manual.length < GOOD + 3) {
      if (Date.now() > deadline) throw new Error('handlers did not receive every record');
      await new Promise((r) => setTimeout(r, 100));
    }
    await dlq.disconnect();
  });

  let closed = false;
  afterAll(async () => {
    if (!closed) await app?.close();
  });

  it('decodes every good record for the handler, once', () => {
    expect(handlers.seen).toHaveLength(GOOD);
    expect(new Set(handlers.seen.map((s) => s.eventId)).size).toBe(GOOD);
    expect(handlers.assigned).toBeGreaterThan(0);
  });

  it('dead-letters what does not decode, named after the component, and commits past it', async () => {
    expect(deadLetters).toHaveLength(3);
    for (const letter of deadLetters) {
      expect(String(letter.headers?.[deadLetterHeaders.component])).toBe('test-batch');
      expect(String(letter.headers?.[deadLetterHeaders.reason])).not.toBe('');
    }
    expect(await consumerLag(box.kafka, `${box.namespace}-batch`, box.topics.telemetry)).toBe(0);
  });

  it('a manual group commits only what its handler commits', async () => {
    const total = GOOD + 3;
    expect(await consumerLag(box.kafka, `${box.namespace}-manual`, box.topics.telemetry)).toBe(total);
    const [partition, offset] = handlers.manual[0]!.split(':');
    await handlers.group!.commit(box.topics.telemetry, Number(partition), String(Number(offset) + 1));
    expect(await consumerLag(box.kafka, `${box.namespace}-manual`, box.topics.telemetry)).toBe(total - 1);
  });

  it('reports each group in /health under its component', async () => {
    const health = await app.get(HealthRegistry).summary();
    expect(health.components['test-batch']).toMatchObject({
      state: 'up',
      detail: { groupId: `${box.namespace}-batch`, topics: 1 },
    });
    expect(health.components['test-manual']?.state).toBe('up');
  });

  it('drains a group before it leaves, at shutdown', async () => {
    await app.close();
    closed = true;
    expect(handlers.drained).toBe(true);
  });
});
