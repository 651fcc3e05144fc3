import { SetMetadata } from '@nestjs/common';
import type { EventCodec } from '@sentio/avro';
import type { StreamName } from '@sentio/events';
import type { HealthReport } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import type { ConsumedBatch } from './batch-consumer.js';
import type { DeadLetter } from './dead-letter.js';

export const STREAM_HANDLER = Symbol('sentio:stream-handler');

/**
 * Who commits a group's offsets:
 * - `batch`: the consumer, once the handler has resolved and the batch's dead letters are with the broker
 *   (the handler's own outputs must be durable when it resolves);
 * - `manual`: the handler, through `StreamGroup.commit`, when what it buffered is durable (ingest's sink);
 * - `none`: nobody. For a view of the streams (the live feed): its own group, read from the end.
 */
export type CommitMode = 'batch' | 'manual' | 'none';

/** A value given as is, or read off the instance that declares the handler (its injected config). */
export type FromInstance<S, V> = V | ((self: S) => V);

export interface StreamHandlerOptions<S> {
  /** Streams of the catalogue (`eventStreams` keys): their codecs are registered at boot, their topics joined. */
  streams: FromInstance<S, readonly StreamName[]>;
  /** The consumer group: handlers naming the same group share one consumer. Comes from the component's config. */
  group: FromInstance<S, string>;
  /** Name in /health, logs and dead letters (`sentio.dlq.component`); defaults to the group id. */
  component?: string;
  /** Defaults to `batch`. */
  commit?: CommitMode;
  /** Where a group without committed offsets starts. Defaults to true (the earliest record). */
  fromBeginning?: boolean;
  /** Partitions handled at once. Defaults to 1. */
  concurrency?: FromInstance<S, number>;
  /** Partitions newly assigned to the group (after every rebalance), before their first batch. */
  onAssignment?: (self: S, assigned: Array<{ topic: string; partition: number }>) => void;
  /** At shutdown, after the group stopped taking batches and before it leaves: land what is buffered and commit. */
  drain?: (self: S) => Promise<void>;
  /**
   * In a rebalance, before this member rejoins (it may lose any of its partitions): land what is buffered
   * and commit, and start nothing new until `onAssignment`. The rebalance waits for it (bounded by the
   * rebalance timeout), so no other member reads these partitions while it runs. Unless `removed`: the
   * group dropped this member (its session expired) and its partitions may be read by others already.
   */
  revoke?: (self: S, removed: boolean) => Promise<void>;
  /** The component's own report, folded into the group's health entry (the worse state wins). */
  health?: (self: S) => HealthReport;
}

/** The group a handler's batches come from: committing is how a `manual` handler says its records are durable. */
export interface StreamGroup {
  readonly groupId: string;
  /**
   * Commits as the holder of the current assignment: refused (thrown) once this member's generation is over,
   * never skipped; not retried, so a refused commit is the handler's to retry or give up.
   */
  commit(topic: string, partition: number, nextOffset: string): Promise<void>;
  /**
   * Asks the group coordinator whether this member still holds its assignment (one round trip): a handler
   * about to write what it read somewhere Kafka cannot fence checks it first.
   */
  holdsAssignment(): Promise<boolean>;
}

export interface DecodedRecord<T> {
  message: KafkaMessage;
  value: T;
}

/** A fetched batch of one partition of one stream, with that stream's codec. */
export interface StreamBatch<T = unknown> extends ConsumedBatch {
  readonly stream: StreamName;
  readonly codec: EventCodec<T>;
  /**
   * Decodes every record of the batch (fetching writer schemas it has not seen). A record that does not
   * decode is dead-lettered with the reason: published before the commit (`batch`), after the handler
   * (`manual`), or only counted (`none`, a view leaves dead letters to the stream's owner).
   */
  decode(): Promise<Array<DecodedRecord<T>>>;
  /** Adds a dead letter, published like those of `decode`. */
  deadLetter(letter: Omit<DeadLetter, 'component'>): void;
}

export type StreamBatchHandler<T = unknown> = (batch: StreamBatch<T>, group: StreamGroup) => Promise<void>;

/**
 * Declares a method as the handler of one or more streams in a consumer group. `KafkaModule` finds it at
 * boot (Nest's discovery), registers the streams' codecs, builds one consumer per group, wires the commits,
 * dead letters and /health, and stops the group at shutdown (drain first). Consumers start once every
 * module has run `onModuleInit` and stop during `onModuleDestroy`: set up what a handler uses in
 * `onModuleInit` and release it in `onApplicationShutdown`.
 *
 * ```ts
 * @StreamHandler({ streams: ['telemetry'], group: (self: DetectorsService) => self.config.groupId })
 * async score(batch: StreamBatch<TelemetrySample>): Promise<void> {
 *   for (const { value } of await batch.decode()) ...;   // produce results, await them; then it commits
 * }
 * ```
 */
export function StreamHandler<S>(options: StreamHandlerOptions<S>): MethodDecorator {
  return SetMetadata(STREAM_HANDLER, options);
}
