import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams } from '@sentio/events';
import {
  DeadLetterPublisher,
  EVENT_TOPICS,
  EventProducer,
  KAFKA,
  KAFKA_CONFIG,
  LOGGER,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { HealthRegistry, type HealthReport, type Logger } from '@sentio/observability';
import type { Kafka } from 'kafkajs';
import type { Connector } from './connector.type.js';
import { ConnectorMetrics } from './connector-metrics.util.js';
import { ConnectorSink } from './connector-sink.service.js';
import { createConnector, type ConnectorConfig } from './connector-types.util.js';
import type { ConnectorsConfig } from './connectors.config.js';
import { ConnectorsGroup } from './group/connectors-group.util.js';
import { ownershipOf, ownsEverything, type Ownership } from './group/device-slots.util.js';

export const CONNECTORS_CONFIG = Symbol('ConnectorsConfig');

/** One configured connector and the instance reading it in this process, if any. */
interface Entry {
  config: ConnectorConfig;
  make: () => Connector;
  connector: Connector;
  /** Whether `connector` was started (whole units) or assigned devices (types with `assign`). */
  running: boolean;
}

/**
 * Starts every configured connector once Kafka and the registry are ready, and stops them first on shutdown.
 * With a group (`connectors.group.id`), the devices are shared with the other processes of the group: each
 * connector reads only the devices (or, for broker sessions, the whole session) whose slot is assigned here.
 */
@Injectable()
export class ConnectorsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly entries: Entry[] = [];
  private readonly logger: Logger;
  private group: ConnectorsGroup | undefined;

  constructor(
    @Inject(CONNECTORS_CONFIG) private readonly config: ConnectorsConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(EventProducer) private readonly producer: EventProducer,
    @Inject(DeadLetterPublisher) private readonly deadLetters: DeadLetterPublisher,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
  ) {
    this.logger = logger.child({ component: 'connectors' });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.connectors.length === 0) return;
    const codecs = {
      telemetry: await EventCodec.register(this.serde, eventStreams.telemetry, this.topics.telemetry),
      lifecycle: await EventCodec.register(this.serde, eventStreams.lifecycle, this.topics.lifecycle),
      logs: await EventCodec.register(this.serde, eventStreams.logs, this.topics.logs),
    };
    for (const config of this.config.connectors) {
      const metrics = new ConnectorMetrics(config.name);
      const sink = new ConnectorSink(config.name, codecs, this.producer, this.deadLetters, metrics);
      const logger = this.logger.child({ connector: config.name, type: config.type });
      // In a group every read first checks that the membership is current (a stalled process's is not).
      const mayRead = this.config.group ? () => this.group?.inContact() ?? false : undefined;
      const make = () => createConnector(config, { sink, metrics, logger, ...(mayRead && { mayRead }) });
      const entry: Entry = { config, make, connector: make(), running: false };
      this.entries.push(entry);
      // An unreachable peer degrades the process, never downs it: the connector keeps reconnecting, and a
      // liveness probe restarting the process (and every other component in it) would not bring the peer back.
      // The connector's own view (its peer) joined with its sink's (Kafka): when events last got through,
      // why they last failed, and whether sends are stalled.
      this.health.register(`connector:${config.name}`, async () => {
        if (!entry.running)
          return { state: 'up', detail: { readHere: false, group: this.config.group?.id ?? null } };
        const own = await entry.connector.health();
        const pipeline = sink.health(this.kafkaConfig.producer.stallMs);
        const state = own.state !== 'up' ? 'degraded' : pipeline.state;
        const reason = own.state !== 'up' ? own.detail?.['reason'] : pipeline.detail?.['reason'];
        return {
          state,
          detail: { ...own.detail, ...pipeline.detail, ...(reason !== undefined && { reason }) },
        };
      });
    }
    const group = this.config.group;
    if (!group) {
      await this.apply(ownsEverything);
      this.logger.info({ connectors: this.entries.map((e) => e.config.name) }, 'connectors started');
      return;
    }
    this.group = new ConnectorsGroup(this.kafka, this.kafkaConfig, group, this.logger);
    this.health.register('connectors-group', (): HealthReport => this.group!.health());
    await this.group.start((owned) => this.apply(ownershipOf(owned, group.slots)));
    this.logger.info(
      { connectors: this.entries.map((e) => e.config.name), group: group.id, slots: group.slots },
      'connectors joined their group',
    );
  }

  async onModuleDestroy(): Promise<void> {
    // Leave the group only once nothing here reads: the slots then go to the others at once.
    if (this.group) await this.group.stop(() => this.stopAll());
    else await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    await Promise.all(
      this.entries.map(async (entry) => {
        if (!entry.running) return;
        entry.running = false;
        await entry.connector.stop();
      }),
    );
  }

  /**
   * Brings every connector in line with what this process owns. Types with `assign` follow device by
   * device; the others (one broker session each) run whole or not at all, keyed by connector name. A
   * stopped connector cannot start again, so a whole unit gained back gets a fresh instance.
   */
  private async apply(owns: Ownership): Promise<void> {
    await Promise.all(
      this.entries.map(async (entry) => {
        const { connector, config } = entry;
        if (this.group && connector.assign) {
          await connector.assign((deviceId) => owns(config.name, deviceId));
          entry.running = true;
          return;
        }
        const want = owns(config.name);
        if (want && !entry.running) {
          entry.running = true;
          await connector.start();
        } else if (!want && entry.running) {
          entry.running = false;
          await connector.stop();
          entry.connector = entry.make();
        }
      }),
    );
  }
}
