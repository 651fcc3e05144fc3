import { randomUUID } from 'node:crypto';
import { createKafka, ensureTopics } from '@sentio/kafka';
import type { Logger } from '@sentio/observability';
import type avro from 'avsc';
import kafkajs, { type Admin, type Consumer, type Kafka as KafkaClient, type Producer } from 'kafkajs';

const { Partitioners } = kafkajs;
import {
  checkCompatibility,
  DEFAULT_COMPATIBILITY,
  isCompatibilityLevel,
  parseAvroSchema,
  type CompatibilityLevel,
  type CompatibilityResult,
  type ParsedAvroSchema,
} from './compatibility.js';
import { ErrorCode, RegistryError } from './registry-error.js';

export interface SchemaVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
  readonly deleted: boolean;
}

interface KnownSchema {
  readonly text: string;
  readonly canonical: string;
  readonly type: avro.Type;
}

export interface SchemaStoreOptions {
  readonly brokers: string[];
  readonly topic: string;
  readonly logger: Logger;
  /** How long replaying the topic may take before startup gives up. */
  readonly replayTimeoutMs?: number;
}

type SchemaKey = { keytype: 'SCHEMA'; subject: string; version: number; magic: 1 };
type ConfigKey = { keytype: 'CONFIG'; subject: string | null; magic: 0 };

/**
 * The registry's state, rebuilt from the compacted `_schemas` topic and kept there in Confluent's record
 * format, so a Confluent registry could read the same topic.
 *
 * Single instance only: there is no leader election and the store does not tail the topic after startup, so
 * two registries writing the same topic would hand out the same ids. Writes go through one queue so that id
 * and version assignment never interleave, and memory changes only after the broker acknowledged the record,
 * so what clients are told always survives a restart.
 */
export class SchemaStore {
  private readonly subjects = new Map<string, Map<number, SchemaVersion>>();
  private readonly schemasById = new Map<number, KnownSchema>();
  private readonly idByCanonical = new Map<string, number>();
  private readonly configs = new Map<string | null, CompatibilityLevel>();
  private maxId = 0;
  private queue: Promise<unknown> = Promise.resolve();

  private readonly kafka: KafkaClient;
  private admin?: Admin;
  private producer?: Producer;

  constructor(private readonly options: SchemaStoreOptions) {
    // The project's shared client: its patches and log handling, under the registry's own client id.
    this.kafka = createKafka(
      { brokers: options.brokers, clientId: 'sentio-schema-registry' },
      options.logger,
    );
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    await this.ensureTopic();
    await this.replay();
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // An idempotent producer retries until delivered (the shared client's bounded retries are for the rest).
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 30_000 },
      // One partition, so the partitioner never matters; naming it silences kafkajs' migration warning.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }

  // ---- reads (served from memory, never queued) ----

  subjectNames(includeDeleted = false): string[] {
    return [...this.subjects.entries()]
      .filter(([, versions]) => [...versions.values()].some((v) => includeDeleted || !v.deleted))
      .map(([subject]) => subject)
      .sort();
  }

  versions(subject: string, includeDeleted = false): SchemaVersion[] {
    const all = [...(this.subjects.get(subject)?.values() ?? [])]
      .filter((v) => includeDeleted || !v.deleted)
      .sort((a, b) => a.version - b.version);
    if (all.length === 0)
      throw new RegistryError(ErrorCode.subjectNotFound, `Subject '${subject}' not found.`);
    return all;
  }

  /** `version` is a number or 'latest'; already validated by the caller. */
  version(subject: string, version: number | 'latest', includeDeleted = false): SchemaVersion {
    const all = this.versions(subject, includeDeleted);
    const found = version === 'latest' ? all.at(-1) : all.find((v) => v.version === version);
    if (!found) throw new RegistryError(ErrorCode.versionNotFound, `Version ${version} not found.`);
    return found;
  }

  schemaById(id: number): string {
    const known = this.schemasById.get(id);
    if (!known) throw new RegistryError(ErrorCode.schemaNotFound, `Schema ${id} not found`);
    return known.text;
  }

  subjectVersionsForId(id: number): { subject: string; version: number }[] {
    this.schemaById(id);
    const result: { subject: string; version: number }[] = [];
    for (const versions of this.subjects.values()) {
      for (const v of versions.values())
        if (v.id === id && !v.deleted) result.push({ subject: v.subject, version: v.version });
    }
    return result;
  }

  lookup(subject: string, schemaText: string, includeDeleted = false): SchemaVersion {
    const parsed = parseAvroSchema(schemaText);
    const versions = this.versions(subject, includeDeleted);
    const found = versions.find((v) => this.schemasById.get(v.id)?.canonical === parsed.canonical);
    if (!found) throw new RegistryError(ErrorCode.schemaNotFound, 'Schema not found');
    return found;
  }

  globalCompatibility(): CompatibilityLevel {
    return this.configs.get(null) ?? DEFAULT_COMPATIBILITY;
  }

  subjectCompatibility(subject: string): CompatibilityLevel | undefined {
    return this.configs.get(subject);
  }

  effectiveCompatibility(subject: string): CompatibilityLevel {
    return this.configs.get(subject) ?? this.globalCompatibility();
  }

  testCompatibility(subject: string, schemaText: string, version: number | 'latest'): CompatibilityResult {
    const parsed = parseAvroSchema(schemaText);
    const level = this.effectiveCompatibility(subject);
    if (version === 'latest') {
      const live = this.subjects.has(subject) ? this.liveVersions(subject) : [];
      return checkCompatibility(
        level,
        parsed.type,
        live.map((v) => this.typeOf(v.id)),
      );
    }
    const target = this.version(subject, version);
    // An explicit version is a question about that one schema, so transitivity does not widen it.
    return checkCompatibility(level.replace('_TRANSITIVE', '') as CompatibilityLevel, parsed.type, [
      this.typeOf(target.id),
    ]);
  }

  // ---- writes (queued, persisted, then applied) ----

  register(subject: string, schemaText: string): Promise<{ id: number }> {
    return this.enqueue(async () => {
      const parsed = parseAvroSchema(schemaText);
      const live = this.liveVersions(subject);
      const existing = live.find((v) => this.schemasById.get(v.id)?.canonical === parsed.canonical);
      if (existing) return { id: existing.id };

      const level = this.effectiveCompatibility(subject);
      const result = checkCompatibility(
        level,
        parsed.type,
        live.map((v) => this.typeOf(v.id)),
      );
      if (!result.compatible) {
        this.options.logger.info({ subject, level }, 'rejected incompatible schema');
        throw new RegistryError(
          ErrorCode.incompatibleSchema,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}"; ${result.messages.join('; ')}`,
        );
      }

      const id = this.idByCanonical.get(parsed.canonical) ?? this.maxId + 1;
      // Versions are never reused after a soft delete, as in Confluent.
      const version = Math.max(0, ...[...(this.subjects.get(subject)?.keys() ?? [])]) + 1;
      // A reused id keeps the text first registered under it, so every subject serves the same bytes for it.
      const schema = this.schemasById.get(id)?.text ?? parsed.text;
      const record: SchemaVersion = { subject, version, id, schema, deleted: false };
      await this.send(schemaKey(subject, version), record);
      this.applySchema(record, parsed);
      this.options.logger.info({ subject, version, id }, 'registered schema');
      return { id };
    });
  }

  setCompatibility(subject: string | null, level: CompatibilityLevel): Promise<void> {
    return this.enqueue(async () => {
      await this.send(configKey(subject), { compatibilityLevel: level });
      this.configs.set(subject, level);
      this.options.logger.info({ subject, level }, 'compatibility changed');
    });
  }

  deleteCompatibility(subject: string): Promise<CompatibilityLevel> {
    return this.enqueue(async () => {
      const level = this.configs.get(subject);
      if (!level) {
        throw new RegistryError(
          ErrorCode.subjectCompatibilityNotConfigured,
          `Subject '${subject}' does not have subject-level compatibility configured`,
        );
      }
      await this.send(configKey(subject), null);
      this.configs.delete(subject);
      return level;
    });
  }

  /** Soft delete rewrites every version with `deleted: true`; permanent delete tombstones them (compaction drops them). */
  deleteSubject(subject: string, permanent: boolean): Promise<number[]> {
    return this.enqueue(async () => {
      const all = this.versions(subject, true);
      if (permanent) {
        if (all.some((v) => !v.deleted)) {
          throw new RegistryError(
            ErrorCode.subjectNotSoftDeleted,
            `Subject '${subject}' was not deleted first before being permanently deleted`,
          );
        }
        for (const v of all) await this.send(schemaKey(subject, v.version), null);
        this.subjects.delete(subject);
      } else {
        const live = all.filter((v) => !v.deleted);
        if (live.length === 0)
          throw new RegistryError(ErrorCode.subjectNotFound, `Subject '${subject}' not found.`);
        for (const v of live) {
          const deleted = { ...v, deleted: true };
          await this.send(schemaKey(subject, v.version), deleted);
          this.applySchema(deleted);
        }
      }
      this.options.logger.info({ subject, permanent, versions: all.length }, 'deleted subject');
      return all.map((v) => v.version);
    });
  }

  // ---- internals ----

  private liveVersions(subject: string): SchemaVersion[] {
    return [...(this.subjects.get(subject)?.values() ?? [])]
      .filter((v) => !v.deleted)
      .sort((a, b) => a.version - b.version);
  }

  private typeOf(id: number): avro.Type {
    const known = this.schemasById.get(id);
    if (!known) throw new RegistryError(ErrorCode.storeError, `Schema ${id} is referenced but unknown`);
    return known.type;
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send(key: SchemaKey | ConfigKey, value: unknown): Promise<void> {
    if (!this.producer) throw new RegistryError(ErrorCode.storeError, 'Schema store is not started');
    try {
      await this.producer.send({
        topic: this.options.topic,
        acks: -1,
        messages: [{ key: JSON.stringify(key), value: value === null ? null : JSON.stringify(value) }],
      });
    } catch (error) {
      this.options.logger.error(
        { err: error, keytype: key.keytype, subject: key.subject },
        'write to schema topic failed',
      );
      throw new RegistryError(
        ErrorCode.storeError,
        `Error while writing to the schema store: ${(error as Error).message}`,
      );
    }
  }

  private applySchema(record: SchemaVersion, parsed?: ParsedAvroSchema): void {
    let versions = this.subjects.get(record.subject);
    if (!versions) {
      versions = new Map();
      this.subjects.set(record.subject, versions);
    }
    versions.set(record.version, record);
    this.maxId = Math.max(this.maxId, record.id);
    if (!this.schemasById.has(record.id)) {
      const { text, canonical, type } = parsed ?? parseAvroSchema(record.schema);
      this.schemasById.set(record.id, { text, canonical, type });
      if (!this.idByCanonical.has(canonical)) this.idByCanonical.set(canonical, record.id);
    }
  }

  private async ensureTopic(): Promise<void> {
    const { topic, logger } = this.options;
    // Created like every topic of the project (a concurrent creation is success); compacted, kept forever.
    await ensureTopics(
      this.kafka,
      [{ name: topic, partitions: 1, replicationFactor: 1, cleanupPolicy: 'compact', retentionMs: -1 }],
      logger,
    );
    const partitions = await this.admin!.fetchTopicOffsets(topic);
    if (partitions.length !== 1) {
      // Ids come from replaying records in order, which only one partition guarantees.
      throw new Error(`schema topic ${topic} has ${partitions.length} partitions; it must have exactly 1`);
    }
  }

  private async replay(): Promise<void> {
    const { topic, logger } = this.options;
    const [partition] = await this.admin!.fetchTopicOffsets(topic);
    const low = BigInt(partition!.low);
    const high = BigInt(partition!.high);
    if (high <= low) {
      logger.info({ topic }, 'schema topic empty; starting fresh');
      return;
    }

    // kafkajs cannot assign partitions without a group, so a throwaway group reads the topic and never commits.
    const groupId = `sentio-schema-registry-replay-${randomUUID()}`;
    const consumer: Consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    let records = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`replaying ${topic} did not reach offset ${high} in time`)),
          this.options.replayTimeoutMs ?? 60_000,
        );
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const message of batch.messages) {
                if (BigInt(message.offset) >= high) break;
                this.applyRecord(message.key?.toString() ?? null, message.value?.toString() ?? null);
                records++;
              }
              // Compaction leaves gaps, so completion is judged by position, not by counting records.
              if (BigInt(batch.lastOffset()) + 1n >= high) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch((error: unknown) => {
            clearTimeout(timer);
            reject(error as Error);
          });
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await this.admin!.deleteGroups([groupId]).catch(() => undefined);
    }
    logger.info({ topic, records, subjects: this.subjects.size, maxId: this.maxId }, 'schema topic replayed');
  }

  private applyRecord(keyText: string | null, valueText: string | null): void {
    if (!keyText) return;
    let key: Record<string, unknown>;
    try {
      key = JSON.parse(keyText) as Record<string, unknown>;
    } catch {
      this.options.logger.warn(
        { offsetKey: keyText.slice(0, 200) },
        'skipping schema topic record with unreadable key',
      );
      return;
    }
    const value = valueText === null ? null : (JSON.parse(valueText) as Record<string, unknown>);
    switch (key['keytype']) {
      case 'SCHEMA': {
        const subject = String(key['subject']);
        const version = Number(key['version']);
        if (value === null) {
          this.subjects.get(subject)?.delete(version);
          if (this.subjects.get(subject)?.size === 0) this.subjects.delete(subject);
          return;
        }
        const id = Number(value['id']);
        this.maxId = Math.max(this.maxId, id);
        const schemaType = value['schemaType'];
        if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
          // The id stays reserved, but this registry only serves Avro.
          this.options.logger.warn({ subject, version, id, schemaType }, 'ignoring non-Avro schema');
          return;
        }
        try {
          this.applySchema({
            subject,
            version,
            id,
            schema: String(value['schema']),
            deleted: value['deleted'] === true,
          });
        } catch (error) {
          this.options.logger.warn(
            { subject, version, id, err: error },
            'ignoring unparseable schema record',
          );
        }
        return;
      }
      case 'CONFIG': {
        const subject = typeof key['subject'] === 'string' ? key['subject'] : null;
        const level = value?.['compatibilityLevel'];
        if (value === null) this.configs.delete(subject);
        else if (isCompatibilityLevel(level)) this.configs.set(subject, level);
        return;
      }
      case 'DELETE_SUBJECT': {
        // Written by Confluent registries; honoured so a topic they wrote reads the same here.
        const subject = String(key['subject']);
        const upTo = Number(value?.['version']);
        for (const v of this.subjects.get(subject)?.values() ?? []) {
          if (v.version <= upTo) this.applySchema({ ...v, deleted: true });
        }
        return;
      }
      default:
        // NOOP, MODE, CLEAR_SUBJECT and friends carry nothing this registry uses.
        return;
    }
  }
}

function schemaKey(subject: string, version: number): SchemaKey {
  return { keytype: 'SCHEMA', subject, version, magic: 1 };
}

function configKey(subject: string | null): ConfigKey {
  return { keytype: 'CONFIG', subject, magic: 0 };
}
