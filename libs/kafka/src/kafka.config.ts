import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

export const kafkaConfigSection = defineConfigSection(
  'kafka',
  z.object({
    brokers: configFields.hostPortList().default(['127.0.0.1:9092']),
    clientId: z.string().min(1).default('sentio'),
    /** Prefix of every topic name, so several environments can share one cluster. */
    namespace: z
      .string()
      .regex(/^[a-z][a-z0-9_-]*$/, 'expected a lowercase name: letters, digits, _ and -')
      .default('sentio'),
    partitions: configFields.positiveInt().default(6),
    replicationFactor: configFields.positiveInt().default(1),
    consumer: z
      .object({
        /** How long a silent member keeps its partitions: a crashed consumer's partitions wait this long. */
        sessionTimeoutMs: configFields
          .positiveInt()
          .pipe(z.number().min(6000, 'expected at least 6000 (the broker minimum)'))
          .default(30_000),
      })
      .default({ sessionTimeoutMs: 30_000 }),
    producer: z
      .object({
        /** How long a record may wait for others to share its request: latency traded for throughput. */
        lingerMs: configFields.nonNegativeInt().default(5),
        /** A batch is sent as soon as it holds this many records, linger or not. */
        batchSize: configFields.positiveInt().default(5000),
        /** ...or this many bytes: one request stays under the broker's message.max.bytes (1 MiB). */
        batchBytes: configFields.positiveInt().default(900_000),
        compression: z.enum(['none', 'gzip']).default('none'),
        /**
         * The largest record (key + value + headers) sent: a larger one is refused before it joins a request,
         * so it cannot fail its neighbours. Below the broker's message.max.bytes (1 MiB by default).
         */
        maxRecordBytes: configFields.positiveInt().default(1_000_000),
        /** Health turns degraded when records wait this long for the broker. */
        stallMs: configFields.positiveInt().default(30_000),
      })
      .default({
        lingerMs: 5,
        batchSize: 5000,
        batchBytes: 900_000,
        compression: 'none',
        maxRecordBytes: 1_000_000,
        stallMs: 30_000,
      }),
  }),
  {
    brokers: 'KAFKA_BROKERS',
    clientId: 'KAFKA_CLIENT_ID',
    namespace: 'SENTIO_NAMESPACE',
    partitions: 'KAFKA_PARTITIONS',
    replicationFactor: 'KAFKA_REPLICATION_FACTOR',
    'consumer.sessionTimeoutMs': 'KAFKA_CONSUMER_SESSION_TIMEOUT_MS',
    'producer.lingerMs': 'KAFKA_PRODUCER_LINGER_MS',
    'producer.batchSize': 'KAFKA_PRODUCER_BATCH_SIZE',
    'producer.batchBytes': 'KAFKA_PRODUCER_BATCH_BYTES',
    'producer.compression': 'KAFKA_PRODUCER_COMPRESSION',
    'producer.maxRecordBytes': 'KAFKA_PRODUCER_MAX_RECORD_BYTES',
    'producer.stallMs': 'KAFKA_PRODUCER_STALL_MS',
  },
);

export type KafkaConfig = z.infer<typeof kafkaConfigSection.schema>;
