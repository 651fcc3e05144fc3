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
  /** Further topic settings (`max.message.bytes`...), applied like the retention. */
  config?: Record<string, string>;
}

function topicConfig(spec: TopicSpec): { name: string; value: string }[] {
  return [
    { name: 'cleanup.policy', value: spec.cleanupPolicy },
    { name: 'retention.ms', value: String(spec.retentionMs) },
    ...Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
  ];
}

/** Answers a broker gives about a topic it is still creating or electing a leader for. */
const settling = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_CONTROLLER',
]);

function isSettling(error: unknown): boolean {
  let e = error as { type?: string; cause?: unknown; message?: string } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e.type && settling.has(e.type)) return true;
    if (/does not host this topic-partition|leader is not available/i.test(e.message ?? '')) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * Runs an admin step again while the broker answers that the topics are not there yet: right after they
 * are created, a fresh broker may say "does not host this topic-partition" for a moment. Bounded: past
 * `settleMs` the answer is taken as real.
 */
async function whenSettled<T>(
  what: string,
  step: () => Promise<T>,
  logger: Logger,
  settleMs: number,
): Promise<T> {
  const deadline = Date.now() + settleMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isSettling(error) || Date.now() > deadline) throw error;
      logger.debug({ err: error, attempt }, `${what}: topics not ready yet; trying again`);
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * Creates missing topics and brings the retention and cleanup policy of existing ones in line with the
 * specs, so every start converges on the same layout. Partitions are only ever added: fewer partitions
 * than configured is reported, never "fixed" by recreating a topic.
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: TopicSpec[],
  logger: Logger,
  settleMs = 60_000,
): Promise<void> {
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
      await whenSettled(
        'create topics',
        () =>
          admin.createTopics({ topics: missing, waitForLeaders: true }).catch((error: Error) => {
            if (!/already exists/i.test(error.message)) throw error;
          }),
        logger,
        settleMs,
      );
      // Every new partition has a leader before anyone produces to it or consumes from it.
      await whenSettled(
        'wait for leaders',
        async () => {
          const { topics } = await admin.fetchTopicMetadata({ topics: missing.map((t) => t.topic) });
          const leaderless = topics.flatMap((t) =>
            t.partitions.filter((p) => p.leader < 0).map(() => t.name),
          );
          if (leaderless.length > 0)
            throw Object.assign(new Error(`no leader yet for ${leaderless[0]}`), {
              type: 'LEADER_NOT_AVAILABLE',
            });
        },
        logger,
        settleMs,
      );
      logger.info({ topics: missing.map((t) => t.topic) }, 'created topics');
    }
    const present = specs.filter((s) => existing.has(s.name));
    if (present.length === 0) return;
    const metadata = await whenSettled(
      'read topic metadata',
      () => admin.fetchTopicMetadata({ topics: present.map((s) => s.name) }),
      logger,
      settleMs,
    );
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
