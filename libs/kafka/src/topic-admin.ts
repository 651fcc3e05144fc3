import type { Logger } from '@sentio/observability';
import type { ITopicConfig, Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';

const { ConfigResourceTypes } = kafkajs;

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  cleanupPolicy: 'delete' | 'compact';
  /** -1 keeps records forever. */
  retentionMs: number;
}

function topicConfig(spec: TopicSpec): { name: string; value: string }[] {
  return [
    { name: 'cleanup.policy', value: spec.cleanupPolicy },
    { name: 'retention.ms', value: String(spec.retentionMs) },
  ];
}

/**
 * Creates missing topics and brings the retention and cleanup policy of existing ones in line with the
 * specs, so every start converges on the same layout. Partitions are only ever added: fewer partitions
 * than configured is reported, never "fixed" by recreating a topic.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing: ITopicConfig[] = specs
      .filter((s) => !existing.has(s.name))
      .map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: topicConfig(s),
      }));
    if (missing.length > 0) {
      // A concurrent start may create the same topics: "already exists" is success here.
      await admin.createTopics({ topics: missing, waitForLeaders: true }).catch((error: Error) => {
        if (!/already exists/i.test(error.message)) throw error;
      });
      logger.info({ topics: missing.map((t) => t.topic) }, 'created topics');
    }
    const present = specs.filter((s) => existing.has(s.name));
    if (present.length === 0) return;
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    for (const topic of metadata.topics) {
      const spec = present.find((s) => s.name === topic.name)!;
      if (topic.partitions.length < spec.partitions) {
        await admin.createPartitions({ topicPartitions: [{ topic: spec.name, count: spec.partitions }] });
        logger.info(
          { topic: spec.name, from: topic.partitions.length, to: spec.partitions },
          'added partitions',
        );
      } else if (topic.partitions.length > spec.partitions) {
        logger.warn(
          { topic: spec.name, partitions: topic.partitions.length, configured: spec.partitions },
          'topic has more partitions than configured; left as is',
        );
      }
    }
    await admin.alterConfigs({
      validateOnly: false,
      resources: present.map((s) => ({
        type: ConfigResourceTypes.TOPIC,
        name: s.name,
        configEntries: topicConfig(s),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
