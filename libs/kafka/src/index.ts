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
export { asRejoin, runSupervised, type Supervised } from './consumer-recovery.js';
export { DeadLetterPublisher, deadLetterHeaders, type DeadLetter } from './dead-letter.js';
export { eventTopics, streamTopicSpecs } from './event-topics.js';
export { KafkaModule } from './kafka.module.js';
export { EVENT_TOPICS, KAFKA, KAFKA_CONFIG, type EventTopics } from './kafka.tokens.js';
/** @deprecated The token lives in `@sentio/observability`; this re-export keeps older imports working. */
export { LOGGER } from '@sentio/observability';
export {
  StreamHandler,
  type CommitMode,
  type DecodedRecord,
  type StreamBatch,
  type StreamBatchHandler,
  type StreamGroup,
  type StreamHandlerOptions,
} from './stream-handler.decorator.js';
export { StreamCodecs } from './stream-codecs.service.js';
export { StreamConsumers } from './stream-consumers.service.js';
export { committedOffsets, consumerLag } from './consumer-lag.js';
