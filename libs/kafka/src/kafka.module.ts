import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HealthRegistry, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import { DeadLetterPublisher } from './dead-letter.js';
import { EventProducer } from './event-producer.js';
import { eventTopics, streamTopicSpecs } from './event-topics.js';
import { createKafka } from './kafka-client.js';
import type { KafkaConfig } from './kafka.config.js';
import { EVENT_TOPICS, KAFKA, KAFKA_CONFIG, type EventTopics } from './kafka.tokens.js';
import { StreamCodecs } from './stream-codecs.service.js';
import { StreamConsumers } from './stream-consumers.service.js';
import { ensureTopics } from './topic-admin.js';

/**
 * The process's one Kafka client and one producer, shared by every component in the process, and the
 * consumers of every `@StreamHandler` the process declares. Topics are created (or brought in line) before
 * any component starts. Needs `ObservabilityModule` (LOGGER, /health) and `AvroModule` (codecs).
 */
@Global()
@Module({})
export class KafkaModule implements OnApplicationShutdown {
  constructor(@Inject(EventProducer) private readonly producer: EventProducer) {}

  static forRoot(config: KafkaConfig, logger: Logger): DynamicModule {
    return {
      module: KafkaModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: KAFKA_CONFIG, useValue: config },
        { provide: EVENT_TOPICS, useValue: eventTopics(config.namespace) },
        {
          provide: KAFKA,
          inject: [HealthRegistry],
          useFactory: async (health: HealthRegistry) => {
            const kafka = createKafka(config, logger);
            await ensureTopics(kafka, streamTopicSpecs(config), logger);
            health.register('kafka', async () => {
              const admin = kafka.admin();
              await admin.connect();
              try {
                const cluster = await admin.describeCluster();
                return {
                  state: 'up',
                  detail: { brokers: cluster.brokers.length, controller: cluster.controller },
                };
              } finally {
                await admin.disconnect();
              }
            });
            return kafka;
          },
        },
        {
          provide: EventProducer,
          inject: [KAFKA, HealthRegistry],
          useFactory: async (kafka: Kafka, health: HealthRegistry) => {
            const producer = new EventProducer(
              kafka,
              config.producer,
              logger.child({ component: 'producer' }),
            );
            await producer.connect();
            health.register('producer', () => producer.health());
            return producer;
          },
        },
        {
          provide: DeadLetterPublisher,
          inject: [EventProducer, EVENT_TOPICS],
          useFactory: (producer: EventProducer, topics: EventTopics) =>
            new DeadLetterPublisher(producer, topics.deadLetter, logger.child({ component: 'dead-letters' })),
        },
        StreamCodecs,
        StreamConsumers,
      ],
      exports: [KAFKA, KAFKA_CONFIG, EVENT_TOPICS, EventProducer, DeadLetterPublisher, StreamCodecs],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }
}
