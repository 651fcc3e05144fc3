import type { eventTopics } from './event-topics.js';

export const KAFKA = Symbol('Kafka');
export const KAFKA_CONFIG = Symbol('KafkaConfig');
export const EVENT_TOPICS = Symbol('EventTopics');

export type EventTopics = ReturnType<typeof eventTopics>;
