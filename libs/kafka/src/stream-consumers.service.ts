import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { EventCodec } from '@sentio/avro';
import type { StreamName } from '@sentio/events';
import {
  counter,
  HealthRegistry,
  LOGGER,
  type HealthReport,
  type HealthState,
  type Logger,
} from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import { BatchConsumer, type ConsumedBatch } from './batch-consumer.js';
import { DeadLetterPublisher, type DeadLetter } from './dead-letter.js';
import type { KafkaConfig } from './kafka.config.js';
import { EVENT_TOPICS, KAFKA, KAFKA_CONFIG, type EventTopics } from './kafka.tokens.js';
import { StreamCodecs } from './stream-codecs.service.js';
import {
  STREAM_HANDLER,
  type CommitMode,
  type DecodedRecord,
  type FromInstance,
  type StreamBatch,
  type StreamBatchHandler,
  type StreamGroup,
  type StreamHandlerOptions,
} from './stream-handler.decorator.js';

const handled = counter('sentio_stream_records_total', 'Records handed to stream handlers', [
  'group',
  'topic',
]);
const handlerFailures = counter('sentio_stream_handler_failures_total', 'Batches whose handler threw', [
  'group',
  'topic',
]);
const skipped = counter(
  'sentio_stream_undecodable_skipped_total',
  'Undecodable records skipped by groups that do not commit (their owner dead-letters them)',
  ['group', 'topic'],
);

/** One declared handler, resolved against its instance. */
interface Declared {
  instance: object;
  method: string;
  options: StreamHandlerOptions<object>;
  groupId: string;
  streams: readonly StreamName[];
}

interface Route {
  stream: StreamName;
  codec: EventCodec<unknown>;
  declared: Declared;
}

/** A consumer group of this process and what it needs at run time. */
interface Group {
  groupId: string;
  component: string;
  commit: CommitMode;
  fromBeginning: boolean;
  concurrency: number;
  routes: Map<string, Route>;
  declared: Declared[];
  consumer?: BatchConsumer;
  handle: StreamGroup;
  stats: { batches: number; records: number; failures: number; lastError?: string };
}

function resolve<S, V>(value: FromInstance<S, V>, self: S): V {
  return typeof value === 'function' ? (value as (self: S) => V)(self) : value;
}

const order: Record<HealthState, number> = { up: 0, degraded: 1, down: 2 };

/**
 * Finds every `@StreamHandler` method of the process's providers and runs them: one `BatchConsumer` per
 * consumer group over the union of its handlers' topics, each batch routed to the handler of its topic.
 */
@Injectable()
export class StreamConsumers implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private groups: Group[] = [];
  private readonly logger: Logger;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly config: KafkaConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(StreamCodecs) private readonly codecs: StreamCodecs,
    @Inject(DeadLetterPublisher) private readonly deadLetters: DeadLetterPublisher,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
  ) {
    this.logger = logger.child({ component: 'stream-consumers' });
  }

  /** Discovers the handlers and registers their codecs; every provider exists by now, none consumes yet. */
  async onModuleInit(): Promise<void> {
    const byGroup = new Map<string, Group>();
    for (const declared of this.discover()) {
      const { options, groupId } = declared;
      let group = byGroup.get(groupId);
      const commit = options.commit ?? 'batch';
      const fromBeginning = options.fromBeginning ?? true;
      if (!group) {
        group = {
          groupId,
          component: options.component ?? groupId,
          commit,
          fromBeginning,
          concurrency: 1,
          routes: new Map(),
          declared: [],
          handle: {
            groupId,
            commit: (topic, partition, nextOffset) => {
              const consumer = byGroup.get(groupId)?.consumer;
              if (!consumer) return Promise.reject(new Error(`consumer group ${groupId} is not running`));
              return consumer.commitAssigned(topic, partition, nextOffset);
            },
            holdsAssignment: () =>
              byGroup.get(groupId)?.consumer?.holdsAssignment() ?? Promise.resolve(false),
          },
          stats: { batches: 0, records: 0, failures: 0 },
        };
        byGroup.set(groupId, group);
      } else if (group.commit !== commit || group.fromBeginning !== fromBeginning) {
        throw new Error(`stream handlers of group ${groupId} disagree on commit mode or start position`);
      }
      group.concurrency = Math.max(group.concurrency, resolve(options.concurrency ?? 1, declared.instance));
      group.declared.push(declared);
      for (const stream of declared.streams) {
        const topic = this.topics[stream];
        if (group.routes.has(topic)) {
          throw new Error(`two stream handlers of group ${groupId} consume ${stream}`);
        }
        // One at a time, in declaration order (see StreamCodecs).
        group.routes.set(topic, { stream, codec: await this.codecs.get(stream), declared });
      }
    }
    this.groups = [...byGroup.values()];
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const group of this.groups) await this.start(group);
  }

  /** Stop taking batches, let each handler land what it buffered, then leave the group. */
  async onModuleDestroy(): Promise<void> {
    await Promise.all(
      this.groups.map(async (group) => {
        if (!group.consumer) return;
        group.consumer.quiesce();
        for (const d of group.declared) {
          try {
            await d.options.drain?.(d.instance);
          } catch (error) {
            this.logger.error(
              { err: error, groupId: group.groupId },
              'drain failed; uncommitted records will be read again on restart',
            );
          }
        }
        await group.consumer.stop();
      }),
    );
  }

  /** The groups this process consumes in, for status pages and tests. */
  list(): Array<{ groupId: string; component: string; topics: string[]; commit: CommitMode }> {
    return this.groups.map((g) => ({
      groupId: g.groupId,
      component: g.component,
      topics: [...g.routes.keys()],
      commit: g.commit,
    }));
  }

  private discover(): Declared[] {
    const found: Declared[] = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const fn = (instance as Record<string, unknown>)[method];
        if (typeof fn !== 'function') continue;
        const options = Reflect.getMetadata(STREAM_HANDLER, fn) as StreamHandlerOptions<object> | undefined;
        if (!options) continue;
        found.push({
          instance,
          method,
          options,
          groupId: resolve(options.group, instance),
          streams: resolve(options.streams, instance),
        });
      }
    }
    return found;
  }

  private async start(group: Group): Promise<void> {
    const consumer = new BatchConsumer(
      this.kafka,
      {
        groupId: group.groupId,
        topics: [...group.routes.keys()],
        fromBeginning: group.fromBeginning,
        sessionTimeoutMs: this.config.consumer.sessionTimeoutMs,
        partitionsConsumedConcurrently: group.concurrency,
      },
      this.logger.child({ groupId: group.groupId }),
    );
    group.consumer = consumer;
    await consumer.start(
      (batch) => this.dispatch(group, batch),
      (assigned) => {
        for (const d of group.declared) d.options.onAssignment?.(d.instance, assigned);
      },
      async (removed) => {
        for (const d of group.declared) {
          if (!d.options.revoke) continue;
          try {
            await d.options.revoke(d.instance, removed);
          } catch (error) {
            this.logger.error({ err: error, groupId: group.groupId }, 'revoke hook failed before a rejoin');
          }
        }
      },
    );
    this.health.register(group.component, () => this.report(group));
    this.logger.info(
      { groupId: group.groupId, component: group.component, topics: [...group.routes.keys()] },
      'stream handlers consuming',
    );
  }

  private async dispatch(group: Group, batch: ConsumedBatch): Promise<void> {
    const route = group.routes.get(batch.topic);
    if (!route) throw new Error(`no stream handler for topic ${batch.topic} in group ${group.groupId}`);
    const letters: DeadLetter[] = [];
    const component = group.component;
    const streamBatch: StreamBatch = {
      ...batch,
      stream: route.stream,
      codec: route.codec,
      decode: async () => {
        await route.codec.prepare(batch.messages.map((m) => m.value));
        const decoded: Array<DecodedRecord<unknown>> = [];
        for (const message of batch.messages) {
          const result = route.codec.decode(message.value);
          if (result.ok) {
            decoded.push({ message, value: result.value });
            continue;
          }
          letters.push({
            sourceTopic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            reason: result.reason,
            component,
          });
        }
        return decoded;
      },
      deadLetter: (letter) => letters.push({ ...letter, component }),
    };
    const labels = { group: group.groupId, topic: batch.topic };
    const { instance, method } = route.declared;
    const handler = (instance as Record<string, StreamBatchHandler>)[method]!;
    try {
      await handler.call(instance, streamBatch, group.handle);
      if (group.commit === 'none') {
        if (letters.length > 0) skipped.inc(labels, letters.length);
      } else {
        await this.deadLetters.publish(letters);
      }
      if (group.commit === 'batch') {
        await group.consumer!.commit(
          batch.topic,
          batch.partition,
          String(BigInt(batch.messages.at(-1)!.offset) + 1n),
        );
      }
    } catch (error) {
      group.stats.failures++;
      group.stats.lastError = (error as Error).message;
      handlerFailures.inc(labels);
      throw error;
    }
    group.stats.failures = 0;
    group.stats.batches++;
    group.stats.records += batch.messages.length;
    handled.inc(labels, batch.messages.length);
  }

  /**
   * Up while batches go through; degraded while a handler keeps failing (its records wait, uncommitted);
   * down while the consumer is crashed and waiting to be started again.
   */
  private report(group: Group): HealthReport {
    const own = group.declared.map((d) => d.options.health?.(d.instance)).filter((r) => r !== undefined);
    const crashed = group.consumer?.crashed;
    const states: HealthState[] = [
      crashed ? 'down' : group.stats.failures > 0 ? 'degraded' : 'up',
      ...own.map((r) => r.state),
    ];
    const state = states.reduce((worst, s) => (order[s] > order[worst] ? s : worst), 'up');
    return {
      state,
      detail: {
        groupId: group.groupId,
        topics: group.routes.size,
        ...Object.assign({}, ...own.map((r) => r.detail ?? {})),
        batches: group.stats.batches,
        ...(crashed ? { consumerCrashed: crashed } : {}),
        ...(group.stats.failures > 0
          ? { handlerFailures: group.stats.failures, lastError: group.stats.lastError }
          : {}),
      },
    };
  }
}
