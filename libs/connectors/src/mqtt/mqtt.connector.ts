import type { HealthReport } from '@sentio/observability';
import type { Connector, ConnectorContext, ConnectorType } from '../connector.type.js';
import { mqttConfigSchema, type MqttConfig } from './mqtt.config.js';
import { compileRule, mapMessage, type CompiledRule } from './mqtt-rules.util.js';
import { MqttSession } from './mqtt-session.util.js';

/** Any MQTT broker: messages mapped to telemetry by topic pattern and payload rules. */
export class MqttConnector implements Connector {
  readonly name: string;
  private readonly rules: CompiledRule[];
  private readonly session: MqttSession;
  private readonly source: string;

  constructor(
    private readonly config: MqttConfig,
    private readonly context: ConnectorContext,
  ) {
    this.name = config.name;
    this.source = `mqtt:${config.name}`;
    this.rules = config.rules.map(compileRule);
    this.session = new MqttSession({
      connection: config,
      clientId: config.clientId ?? `sentio-${config.name}`,
      clean: false,
      filters: [...new Set(this.rules.map((r) => r.pattern.filter))],
      qos: config.qos,
      handler: (topic, payload) => this.handle(topic, payload),
      deadLetter: (origin, payload, reason, keepBytes) =>
        context.sink.deadLetter({ protocol: 'mqtt', origin, key: null, payload, reason, keepBytes }),
      metrics: context.metrics,
      logger: context.logger,
    });
  }

  start(): Promise<void> {
    return this.session.start();
  }

  stop(): Promise<void> {
    return this.session.stop();
  }

  health(): HealthReport {
    return this.session.health();
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    const { sink, metrics } = this.context;
    metrics.messageIn();
    const samples = mapMessage(this.rules, topic, payload, {
      source: this.source,
      labels: this.config.labels,
      receivedAtMs: Date.now(),
    });
    if (samples instanceof Error) {
      metrics.error('unmappable');
      await sink.deadLetter({ protocol: 'mqtt', origin: topic, key: null, payload, reason: samples.message });
      return;
    }
    await sink.telemetry(samples);
  }
}

export const mqttConnectorType: ConnectorType<MqttConfig> = {
  type: 'mqtt',
  configSchema: mqttConfigSchema,
  create: (config, context) => new MqttConnector(config, context),
};
