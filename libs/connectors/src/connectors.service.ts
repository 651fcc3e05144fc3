import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams } from '@sentio/events';
import {
  DeadLetterPublisher,
  EVENT_TOPICS,
  EventProducer,
  KAFKA_CONFIG,
  LOGGER,
  type EventTopics,
  type KafkaConfig,
} from '@sentio/kafka';
import { HealthRegistry, type Logger } from '@sentio/observability';
import type { Connector } from './connector.type.js';
import { ConnectorMetrics } from './connector-metrics.util.js';
import { ConnectorSink } from './connector-sink.service.js';
import { createConnector } from './connector-types.util.js';
import type { ConnectorsConfig } from './connectors.config.js';

export const CONNECTORS_CONFIG = Symbol('ConnectorsConfig');

/** Starts every configured connector once Kafka and the registry are ready, and stops them first on shutdown. */
@Injectable()
export class ConnectorsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly connectors: Connector[] = [];
  private readonly logger: Logger;

  constructor(
    @Inject(CONNECTORS_CONFIG) private readonly config: ConnectorsConfig,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
    @Inject(LOGGER) logger: Logger,
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(EventProducer) private readonly producer: EventProducer,
    @Inject(DeadLetterPublisher) private readonly deadLetters: DeadLetterPublisher,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
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
      const connector = createConnector(config, { sink, metrics, logger });
      this.connectors.push(connector);
      // An unreachable peer degrades the process, never downs it: the connector keeps reconnecting, and a
      // liveness probe restarting the process (and every other component in it) would not bring the peer back.
      // The connector's own view (its peer) joined with its sink's (Kafka): when events last got through,
      // why they last failed, and whether sends are stalled.
      this.health.register(`connector:${config.name}`, async () => {
        const own = await connector.health();
        const pipeline = sink.health(this.kafkaConfig.producer.stallMs);
        const state = own.state !== 'up' ? 'degraded' : pipeline.state;
        const reason = own.state !== 'up' ? own.detail?.['reason'] : pipeline.detail?.['reason'];
        return {
          state,
          detail: { ...own.detail, ...pipeline.detail, ...(reason !== undefined && { reason }) },
        };
      });
    }
    await Promise.all(this.connectors.map((c) => c.start()));
    this.logger.info({ connectors: this.connectors.map((c) => c.name) }, 'connectors started');
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.connectors.splice(0).map((c) => c.stop()));
  }
}
