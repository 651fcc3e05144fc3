import { writeSync } from 'node:fs';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import {
  ClickHouseStore,
  SinkBatchesRepository,
  STREAM_PROJECTIONS,
  type StreamProjections,
} from '@sentio/clickhouse';
import type { StreamName } from '@sentio/events';
import {
  committedOffsets,
  DeadLetterPublisher,
  KAFKA,
  StreamCodecs,
  StreamHandler,
  type StreamBatch,
  type StreamGroup,
} from '@sentio/kafka';
import type { Kafka } from 'kafkajs';
import { LOGGER, type HealthReport, type Logger } from '@sentio/observability';
import type { IngestConfig } from './ingest.config.js';
import { ProjectionSink } from './projection-sink.js';
import { projectedStreams, sinkStreams } from './stream-projections.js';

export const INGEST_CONFIG = Symbol('IngestConfig');

/**
 * The projection sink as the stream handler of every projected stream: one consumer group, commits made by
 * the sink once a range is in ClickHouse, and the buffered records landed before the group is left.
 */
@Injectable()
export class IngestService implements OnModuleInit {
  readonly streams: StreamName[];
  private sink: ProjectionSink | undefined;
  private group: StreamGroup | undefined;
  private readonly logger: Logger;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(STREAM_PROJECTIONS) private readonly projections: StreamProjections,
    @Inject(StreamCodecs) private readonly codecs: StreamCodecs,
    @Inject(SinkBatchesRepository) private readonly batches: SinkBatchesRepository,
    @Inject(DeadLetterPublisher) private readonly deadLetters: DeadLetterPublisher,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(ClickHouseStore) private readonly store: ClickHouseStore,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'ingest' });
    this.streams = projectedStreams(projections);
  }

  async onModuleInit(): Promise<void> {
    const crashAfter = this.config.crashAfterInserts;
    this.sink = new ProjectionSink(
      await sinkStreams(this.codecs, this.projections, this.streams),
      this.batches,
      this.deadLetters,
      // The sink commits only ranges it flushed, and only batches it was handed start a range.
      (topic, partition, offset) => this.group!.commit(topic, partition, offset),
      {
        groupId: this.config.groupId,
        flushIntervalMs: this.config.flushIntervalMs,
        maxBatchRecords: this.config.maxBatchRecords,
        afterInsert: crashAfter > 0 ? (inserts) => crashIfDue(inserts, crashAfter) : undefined,
        committedOffsets: (topic) => committedOffsets(this.kafka, this.config.groupId, topic),
        // A server can be shared by several ingest members: a partition's range must be repeatable alone.
        insertPerRange: this.store.mode === 'server',
        // Kafka cannot fence a dropped member's inserts into ClickHouse: the sink asks before each one.
        holdsAssignment: () => this.group?.holdsAssignment() ?? Promise.resolve(false),
      },
      this.logger,
    );
    this.sink.start();
  }

  @StreamHandler({
    streams: (self: IngestService) => self.streams,
    group: (self: IngestService) => self.config.groupId,
    component: 'ingest',
    commit: 'manual',
    concurrency: (self: IngestService) => self.config.partitionConcurrency,
    onAssignment: (self: IngestService, assigned) => self.sink!.onAssignment(assigned),
    // Insert and commit what is buffered before leaving the group: nothing is lost on a graceful stop.
    drain: (self: IngestService) => self.sink!.drain(),
    // ...and before rejoining in a rebalance: a partition's next owner never reads it while we flush it.
    revoke: (self: IngestService, removed) => self.sink!.revoke(removed),
    health: (self: IngestService) => self.report(),
  })
  async project(batch: StreamBatch, group: StreamGroup): Promise<void> {
    this.group = group;
    await this.sink!.handle(batch);
  }

  /** Degraded, not down: a partition whose inserts fail holds its records and retries; the rest flow. */
  private report(): HealthReport {
    const failing = this.sink?.failing() ?? [];
    return { state: failing.length > 0 ? 'degraded' : 'up', detail: { failing } };
  }
}

function crashIfDue(inserts: number, crashAfter: number): void {
  if (inserts < crashAfter) return;
  // Written synchronously: the log stream would not be flushed before the kill.
  const line = {
    level: 'warn',
    inserts,
    msg: 'fault injection: killing the process between insert and commit',
  };
  writeSync(2, `${JSON.stringify(line)}\n`);
  process.kill(process.pid, 'SIGKILL');
}
