/**
 * KafkaJS (the client behind libs/kafka) against @platformatic/kafka, a maintained pure-JavaScript client, on
 * the backbone's records: idempotent acks=all produce, then a consumer group reading them back, each client
 * in turn in this process. Prints records/s and CPU per record; asserts nothing.
 *
 *   node --import @swc-node/register/esm-register tools/bench/kafka-clients.bench.ts [--records 500000]
 */
import { parseArgs } from 'node:util';
import { Consumer, Producer, ProduceAcks } from '@platformatic/kafka';
import type { TelemetrySample } from '@sentio/events';
import { BatchConsumer, ensureTopics, EventProducer } from '@sentio/kafka';
import type { Message } from 'kafkajs';
import { BENCH_METRICS, benchBackbone, benchDeviceId, benchLoggers, cpuMicros } from './bench-setup.util.js';

const { logger } = benchLoggers();
const { values: args } = parseArgs({ options: { records: { type: 'string', default: '500000' } } });
const RECORDS = Number(args.records);
const CHUNK = 10_000;

async function timed(run: () => Promise<void>): Promise<{ perS: number; cpuUs: number }> {
  const cpu = cpuMicros();
  const t0 = performance.now();
  await run();
  return { perS: RECORDS / ((performance.now() - t0) / 1000), cpuUs: (cpuMicros() - cpu) / RECORDS };
}

const backbone = await benchBackbone('bench-clients', logger);
const codec = await backbone.telemetryCodec();
const messages: Message[] = Array.from({ length: RECORDS }, (_, i) => {
  const sample: TelemetrySample = {
    eventId: `c-${i}`,
    deviceId: benchDeviceId(i % 10_000),
    timestampMs: Date.now(),
    metric: BENCH_METRICS[Math.floor(i / 10_000) % BENCH_METRICS.length]!,
    value: i % 1000,
    unit: 'u',
    quality: 'GOOD',
    labels: {},
    source: 'bench',
  };
  return { key: sample.deviceId, value: codec.encode(sample) };
});
const topic = (client: string) => `${backbone.namespace}.clients.${client}`;
await ensureTopics(
  backbone.kafka,
  ['kafkajs', 'platformatic'].map((c) => ({
    name: topic(c),
    partitions: backbone.kafkaConfig.partitions,
    replicationFactor: 1,
    cleanupPolicy: 'delete' as const,
    retentionMs: 3_600_000,
  })),
  logger,
);
const brokers = backbone.kafkaConfig.brokers;
const results: Array<[string, { perS: number; cpuUs: number }]> = [];

// KafkaJS through libs/kafka's own producer (linger, batching, one request in flight) and batch consumer.
const producer = new EventProducer(
  backbone.kafka,
  { ...backbone.kafkaConfig.producer, batchSize: CHUNK },
  logger,
);
await producer.connect();
results.push([
  'kafkajs produce',
  await timed(async () => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < RECORDS; i += CHUNK) {
      pending.push(producer.send(topic('kafkajs'), messages.slice(i, i + CHUNK)));
      if (pending.length >= 40) await pending.shift();
    }
    await Promise.all(pending);
  }),
]);
await producer.disconnect();
results.push([
  'kafkajs consume',
  await timed(async () => {
    const consumer = new BatchConsumer(
      backbone.kafka,
      { groupId: `${backbone.namespace}-kafkajs`, topics: [topic('kafkajs')] },
      logger,
    );
    let seen = 0;
    await new Promise<void>((resolve) => {
      void consumer.start(async (batch) => {
        seen += batch.messages.length;
        if (seen >= RECORDS) resolve();
      });
    });
    await consumer.stop();
  }),
]);

// @platformatic/kafka: idempotent, acks=all, Buffers as they are.
const pProducer = new Producer({
  clientId: 'bench-platformatic',
  bootstrapBrokers: brokers,
  idempotent: true,
  acks: ProduceAcks.ALL,
});
results.push([
  'platformatic produce',
  await timed(async () => {
    for (let i = 0; i < RECORDS; i += CHUNK) {
      await pProducer.send({
        messages: messages.slice(i, i + CHUNK).map((m) => ({
          topic: topic('platformatic'),
          key: Buffer.from(m.key as string),
          value: m.value as Buffer,
        })),
      });
    }
  }),
]);
await pProducer.close();
results.push([
  'platformatic consume',
  await timed(async () => {
    const consumer = new Consumer({
      clientId: 'bench-platformatic',
      groupId: `${backbone.namespace}-platformatic`,
      bootstrapBrokers: brokers,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTime: 100,
    });
    const stream = await consumer.consume({
      topics: [topic('platformatic')],
      mode: 'earliest',
      autocommit: false,
    });
    let seen = 0;
    await new Promise<void>((resolve) => {
      stream.on('data', () => {
        if (++seen === RECORDS) resolve();
      });
    });
    await stream.close();
    await consumer.close(true);
  }),
]);

console.log(
  `\n${RECORDS} records of ${messages[0]!.value!.length} bytes, ${backbone.kafkaConfig.partitions} partitions`,
);
console.log('client / direction           records/s   CPU us/record');
for (const [name, r] of results) {
  console.log(
    `${name.padEnd(26)} ${Math.round(r.perS).toString().padStart(11)} ${r.cpuUs.toFixed(2).padStart(15)}`,
  );
}
process.exit(0);
