import type {
  AlertEvent,
  AlertRuleRecord,
  Anomaly,
  DeviceLifecycle,
  DeviceLogRecord,
  Forecast,
  Span,
  TelemetrySample,
} from './generated/events.type.js';

/**
 * Every event stream of the platform. Topic names follow `<namespace>.<domain>.<stream>.v<major>`: the
 * namespace (default `sentio`) separates environments sharing a cluster, and the major suffix changes only
 * for an incompatible schema change, which needs a new topic and a migration (compatible changes evolve the
 * schema in place). Records are keyed by device id so one device's events stay ordered in one partition.
 */
export interface EventStream<T> {
  /** Folder under schemas/. */
  readonly event: string;
  readonly domain: string;
  readonly stream: string;
  readonly major: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  readonly retentionMs: number;
  /**
   * The retention policy past Kafka: closed time ranges are kept by `sentio archive` (Avro files), and replays
   * read them before the topic, so projections rebuild beyond `retentionMs`. Compacted streams need none: the
   * topic is their whole history.
   */
  readonly archive?: boolean;
  readonly key: (record: T) => string;
}

const DAY_MS = 24 * 3600 * 1000;

function stream<T>(spec: EventStream<T>): EventStream<T> {
  return spec;
}

export const eventStreams = {
  telemetry: stream<TelemetrySample>({
    event: 'telemetry-sample',
    domain: 'telemetry',
    stream: 'samples',
    major: 1,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    archive: true,
    key: (r) => r.deviceId,
  }),
  logs: stream<DeviceLogRecord>({
    event: 'device-log-record',
    domain: 'logs',
    stream: 'records',
    major: 1,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    archive: true,
    key: (r) => r.deviceId,
  }),
  spans: stream<Span>({
    event: 'span',
    domain: 'traces',
    stream: 'spans',
    major: 1,
    cleanupPolicy: 'delete',
    retentionMs: 3 * DAY_MS,
    archive: true,
    key: (r) => r.deviceId ?? r.traceId,
  }),
  lifecycle: stream<DeviceLifecycle>({
    event: 'device-lifecycle',
    domain: 'devices',
    stream: 'lifecycle',
    major: 1,
    // Compacted: the latest event per device carries its full metadata, so the topic is the inventory.
    cleanupPolicy: 'compact',
    retentionMs: -1,
    key: (r) => r.deviceId,
  }),
  anomalies: stream<Anomaly>({
    event: 'anomaly',
    domain: 'detectors',
    stream: 'anomalies',
    major: 1,
    cleanupPolicy: 'delete',
    retentionMs: 90 * DAY_MS,
    archive: true,
    key: (r) => r.deviceId,
  }),
  forecasts: stream<Forecast>({
    event: 'forecast',
    domain: 'detectors',
    stream: 'forecasts',
    major: 1,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    archive: true,
    key: (r) => r.deviceId,
  }),
  alerts: stream<AlertEvent>({
    event: 'alert-event',
    domain: 'alerts',
    stream: 'events',
    major: 1,
    cleanupPolicy: 'delete',
    retentionMs: 365 * DAY_MS,
    archive: true,
    key: (r) => r.deviceId ?? r.ruleId,
  }),
  alertRules: stream<AlertRuleRecord>({
    event: 'alert-rule',
    domain: 'alerts',
    stream: 'rules',
    major: 1,
    // Compacted: the latest revision per rule is its definition, so the topic is the source of truth for rules.
    cleanupPolicy: 'compact',
    retentionMs: -1,
    key: (r) => r.ruleId,
  }),
} as const;

export type StreamName = keyof typeof eventStreams;

export type RecordOf<S extends StreamName> =
  (typeof eventStreams)[S] extends EventStream<infer T> ? T : never;

export function topicName(
  namespace: string,
  s: Pick<EventStream<unknown>, 'domain' | 'stream' | 'major'>,
): string {
  return `${namespace}.${s.domain}.${s.stream}.v${s.major}`;
}

/** Confluent's TopicNameStrategy, so any Confluent tool finds the value schema of a topic. */
export function subjectName(topic: string): string {
  return `${topic}-value`;
}

/** Records that cannot be decoded or fail validation, from any stream; the headers say where they came from. */
export function deadLetterTopic(namespace: string): string {
  return `${namespace}.dlq.v1`;
}
