import { deadLetterTopic, eventStreams, topicName, type StreamName } from '@sentio/events';
import type { KafkaConfig } from './kafka.config.js';
import type { TopicSpec } from './topic-admin.js';

/** Topic names of every stream in this namespace. */
export function eventTopics(namespace: string): Record<StreamName, string> & { deadLetter: string } {
  const names = Object.fromEntries(
    Object.entries(eventStreams).map(([name, stream]) => [name, topicName(namespace, stream)]),
  ) as Record<StreamName, string>;
  return { ...names, deadLetter: deadLetterTopic(namespace) };
}

export function streamTopicSpecs(config: KafkaConfig): TopicSpec[] {
  const specs: TopicSpec[] = Object.values(eventStreams).map((stream) => ({
    name: topicName(config.namespace, stream),
    partitions: config.partitions,
    replicationFactor: config.replicationFactor,
    cleanupPolicy: stream.cleanupPolicy,
    retentionMs: stream.retentionMs,
  }));
  specs.push({
    name: deadLetterTopic(config.namespace),
    partitions: 1,
    replicationFactor: config.replicationFactor,
    cleanupPolicy: 'delete',
    retentionMs: 30 * 24 * 3600 * 1000,
  });
  return specs;
}
