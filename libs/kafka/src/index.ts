// First: KafkaJS must load with its producer patched (see kafkajs-patches.ts).
import './kafkajs-patches.js';

export { kafkaConfigSection, type KafkaConfig } from './kafka.config.js';
export { createKafka } from './kafka-client.js';
export { ensureTopics, type TopicSpec } from './topic-admin.js';
export { EventProducer, RecordRefusedError, RecordTooLargeError } from './event-producer.js';
export {
  BatchConsumer,
  type AssignmentListener,
  type BatchConsumerOptions,
  type ConsumedBatch,
} from './batch-consumer.js';
export { DeadLetterPublisher, deadLetterHeaders, type DeadLetter } from './dead-letter.js';
export { eventTopics, streamTopicSpecs } from './event-topics.js';
export { EVENT_TOPICS, KAFKA, KAFKA_CONFIG, KafkaModule, LOGGER, type EventTopics } from './kafka.module.js';
export { consumerLag } from './consumer-lag.js';
