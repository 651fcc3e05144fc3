import { writeSync } from 'node:fs';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde } from '@sentio/avro';
import {
  AlertsRepository,
  AnomaliesRepository,
  DevicesRepository,
  ForecastsRepository,
  LogsRepository,
  MetricsRepository,
  SinkBatchesRepository,
  SpansRepository,
} from '@sentio/clickhouse';
import {
  BatchConsumer,
  DeadLetterPublisher,
  EVENT_TOPICS,
  KAFKA,
  KAFKA_CONFIG,
  LOGGER,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { HealthRegistry, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { IngestConfig } from './ingest.config.js';
import { ProjectionSink } from './projection-sink.js';
import { streamProjections } from './stream-projections.js';

export const INGEST_CONFIG = Symbol('IngestConfig');

/** Runs the projection sink inside a consumer group for as long as the process lives. */
@Injectable()
export class IngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchConsumer | undefined;
  private sink: ProjectionSink | undefined;
  private readonly logger: Logger;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    private readonly serde: AvroSerde,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly batches: SinkBatchesRepository,
    private readonly metrics: MetricsRepository,
    private readonly logs: LogsRepository,
    private readonly spans: SpansRepository,
    private readonly devices: DevicesRepository,
    private readonly anomalies: AnomaliesRepository,
    private readonly forecasts: ForecastsRepository,
    private readonly alerts: AlertsRepository,
    private readonly health: HealthRegistry,
  ) {
    this.logger = logger.child({ component: 'ingest' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { metrics, logs, spans, devices, anomalies, forecasts, alerts } = this;
    const streams = await streamProjections(this.serde, this.topics, {
      metrics,
      logs,
      spans,
      devices,
      anomalies,
      forecasts,
      alerts,
    });
    const consumer = new BatchConsumer(
      this.kafka,
      {
        groupId: this.config.groupId,
        topics: streams.map((s) => s.topic),
        sessionTimeoutMs: this.kafkaConfig.consumer.sessionTimeoutMs,
        partitionsConsumedConcurrently: this.config.partitionConcurrency,
      },
      this.logger,
    );
    const crashAfter = this.config.crashAfterInserts;
    const sink = new ProjectionSink(
      streams,
      this.batches,
      this.deadLetters,
      (topic, partition, offset) => consumer.commit(topic, partition, offset),
      {
        groupId: this.config.groupId,
        flushIntervalMs: this.config.flushIntervalMs,
        maxBatchRecords: this.config.maxBatchRecords,
        afterInsert:
          crashAfter > 0
            ? (inserts) => {
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
            : undefined,
      },
      this.logger,
    );
    this.consumer = consumer;
    this.sink = sink;
    sink.start();
    await consumer.start(
      (batch) => sink.handle(batch),
      (assigned) => sink.onAssignment(assigned),
    );
    // Degraded, not down: a partition whose inserts fail holds its records and retries; the rest flow.
    this.health.register('ingest', () => {
      const failing = sink.failing();
      return {
        state: failing.length > 0 ? 'degraded' : 'up',
        detail: { groupId: this.config.groupId, topics: sink.topics.length, failing },
      };
    });
    this.logger.info({ groupId: this.config.groupId, topics: sink.topics }, 'ingest consuming');
  }

  /** Stop taking batches, insert and commit what is buffered, then leave the group: nothing is lost. */
  async onModuleDestroy(): Promise<void> {
    if (!this.consumer || !this.sink) return;
    this.consumer.quiesce();
    try {
      await this.sink.drain();
    } catch (error) {
      this.logger.error({ err: error }, 'drain failed; uncommitted records will be read again on restart');
    }
    await this.consumer.stop();
  }
}
