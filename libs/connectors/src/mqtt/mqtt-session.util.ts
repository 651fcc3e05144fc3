import { readFileSync } from 'node:fs';
import type { HealthReport, Logger } from '@sentio/observability';
import { AvroEncodeError } from '@sentio/avro';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { ConnectorMetrics } from '../connector-metrics.util.js';
import type { MqttConnectionConfig } from './mqtt-connection.config.js';

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => Promise<void>;

export interface MqttSessionOptions {
  connection: MqttConnectionConfig;
  clientId: string;
  /** false: a persistent session, whose QoS 1 messages the broker queues while we are away. */
  clean: boolean;
  filters: string[];
  qos: 0 | 1;
  handler: MessageHandler;
  /** Where a message goes whose events Avro refuses: redelivering it would only fail again. */
  deadLetter: (topic: string, payload: Buffer, reason: string) => Promise<void>;
  metrics: ConnectorMetrics;
  logger: Logger;
}

/** Capped exponential backoff: initial, 2x, 4x ... up to max. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
}

/**
 * One broker session whose messages are acknowledged only after the handler resolved, i.e. after Kafka
 * acknowledged what the message became. mqtt.js sends the PUBACK of a QoS 1 message when
 * `handleMessage`'s callback is called (for 3.1.1 and 5 alike; `customHandleAcks` only exists for 5 and
 * only chooses a reason code), and hands over the next message only after that, which also keeps the
 * in-order PUBACKs the protocol asks for.
 */
export class MqttSession {
  private client: MqttClient | undefined;
  private stopping = false;
  private inFlight: Promise<void> = Promise.resolve();
  private attempt = 0;
  private connected = false;
  private lastError: string | undefined;

  constructor(private readonly options: MqttSessionOptions) {}

  start(): Promise<void> {
    const { connection, logger, metrics } = this.options;
    const client = mqtt.connect(connection.url, this.clientOptions());
    this.client = client;
    client.handleMessage = (packet, callback) => {
      // Not acknowledged: the broker sends it again to this session's next connection.
      if (this.stopping) return callback(new Error('connector stopping'));
      const publish = packet as IPublishPacket;
      const payload = typeof publish.payload === 'string' ? Buffer.from(publish.payload) : publish.payload;
      this.inFlight = this.deliver(publish.topic, payload, publish).then(
        () => callback(),
        (error: unknown) => {
          callback(error as Error);
          if (this.stopping) return;
          metrics.error('publish');
          logger.error({ err: error, topic: publish.topic }, 'message not delivered to Kafka; reconnecting');
          // Without a PUBACK the broker redelivers only on a new connection.
          client.reconnect();
        },
      );
    };
    client.on('connect', () => {
      this.connected = true;
      this.attempt = 0;
      this.lastError = undefined;
      client.options.reconnectPeriod = connection.reconnect.initialMs;
      logger.info({ url: connection.url, clientId: this.options.clientId }, 'mqtt connected');
      client.subscribe(this.options.filters, { qos: this.options.qos }, (error, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (error || refused.length > 0) {
          this.lastError = error?.message ?? `subscription refused: ${refused.join(', ')}`;
          metrics.error('subscribe');
          logger.error({ err: error, refused }, 'mqtt subscription failed');
        }
      });
    });
    client.on('reconnect', () => {
      this.attempt++;
      metrics.reconnect();
      // mqtt.js waits a fixed period; raising it before the next close makes the wait grow per attempt.
      client.options.reconnectPeriod = backoffMs(
        this.attempt,
        connection.reconnect.initialMs,
        connection.reconnect.maxMs,
      );
    });
    client.on('close', () => {
      this.connected = false;
    });
    client.on('error', (error) => {
      this.lastError = error.message;
      logger.warn({ err: error, url: connection.url }, 'mqtt error');
    });
    return new Promise<void>((resolve) => {
      const settle = () => {
        client.off('connect', settle);
        client.off('close', settle);
        resolve();
      };
      client.once('connect', settle);
      client.once('close', settle);
      client.connect();
    });
  }

  private async deliver(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    try {
      await this.options.handler(topic, payload, packet);
    } catch (error) {
      if (!(error instanceof AvroEncodeError)) throw error;
      this.options.metrics.error('unencodable');
      await this.options.deadLetter(topic, payload, error.message);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.inFlight;
    await this.client?.endAsync();
    this.connected = false;
  }

  health(): HealthReport {
    if (this.connected && !this.lastError) return { state: 'up' };
    return {
      state: this.connected ? 'degraded' : 'down',
      detail: { url: this.options.connection.url, error: this.lastError ?? null, attempt: this.attempt },
    };
  }

  private clientOptions(): IClientOptions {
    const { connection, clientId, clean } = this.options;
    const tls = connection.tls;
    return {
      manualConnect: true,
      protocolVersion: connection.protocolVersion,
      clientId,
      clean,
      username: connection.username,
      password: connection.password,
      keepalive: connection.keepaliveSeconds,
      reconnectPeriod: connection.reconnect.initialMs,
      reconnectOnConnackError: true,
      // Subscriptions are made on every connect by us, so a session the broker lost is rebuilt too.
      resubscribe: false,
      properties:
        connection.protocolVersion === 5 && !clean
          ? { sessionExpiryInterval: connection.sessionExpirySeconds }
          : undefined,
      ...(tls && {
        ca: tls.ca ? readFileSync(tls.ca) : undefined,
        cert: tls.cert ? readFileSync(tls.cert) : undefined,
        key: tls.key ? readFileSync(tls.key) : undefined,
        rejectUnauthorized: tls.rejectUnauthorized,
      }),
    };
  }
}
