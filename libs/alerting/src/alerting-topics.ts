import type { TopicSpec } from '@sentio/kafka';

/**
 * The alerting component's internal topics. They hold JSON, not Avro: only this component (and its API
 * feature) reads them, their shape is versioned with the code, and the state snapshots are opaque to
 * everyone else. Public events (rules, alert transitions) are Avro in the stream catalogue.
 */
export function alertingTopics(namespace: string) {
  return {
    /** Evaluator state per (rule, device), written in the same transaction as transitions and offsets. */
    state: `${namespace}.alerts.state.v1`,
    /** Notification log: what was last notified per group and integration. */
    notifications: `${namespace}.alerts.notifications.v1`,
    /** Every delivery attempt. */
    deliveries: `${namespace}.alerts.deliveries.v1`,
    /** Silences (latest per id). */
    silences: `${namespace}.alerts.silences.v1`,
  };
}

export type AlertingTopics = ReturnType<typeof alertingTopics>;

export function alertingTopicSpecs(
  namespace: string,
  partitions: number,
  replicationFactor: number,
): TopicSpec[] {
  const t = alertingTopics(namespace);
  const compact = (name: string, p = partitions): TopicSpec => ({
    name,
    partitions: p,
    replicationFactor,
    cleanupPolicy: 'compact',
    retentionMs: -1,
  });
  return [
    compact(t.state),
    compact(t.notifications, 1),
    compact(t.silences, 1),
    {
      name: t.deliveries,
      partitions: 1,
      replicationFactor,
      cleanupPolicy: 'delete',
      retentionMs: 30 * 86_400_000,
    },
  ];
}
