import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HealthReport, Logger } from '@sentio/observability';
import { AvroEncodeError } from '@sentio/avro';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { backoffMs } from '../common/backoff.util.js';
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
  /**
   * Where a message goes that can never get through (Avro refuses its events, it is over
   * `maxPayloadBytes`): redelivering it would only fail again. `keepBytes` cuts the payload kept.
   */
  deadLetter: (topic: string, payload: Buffer, reason: string, keepBytes?: number) => Promise<void>;
  metrics: ConnectorMetrics;
  logger: Logger;
}

/**
 * Given to `handleMessage`'s callback so that mqtt.js reads on without sending the PUBACK itself (an error
 * there only skips the acknowledgement); the session sends it once Kafka has the message.
 */
const readOn = new Error('acknowledged by the session once in Kafka');

/** A message handed to the handler and not yet acknowledged to the broker. */
interface Pending {
  messageId: number | undefined;
  qos: number;
  settled: boolean;
  /** Topic and payload hash: what recognises the broker's redelivery of a message already in Kafka. */
  identity: string;
}

/** How many delivered-but-unacknowledged messages are remembered to recognise their redelivery. */
const REMEMBERED = 10_000;
/** Reconnections within this window that count as a reconnect loop. */
const LOOP_WINDOW_MS = 60_000;
const LOOP_RECONNECTS = 5;

function identityOf(topic: string, payload: Buffer): string {
  return `${topic}\0${createHash('sha1').update(payload).digest('base64')}`;
}

/** mqtt.js sends a PUBACK through this (private) method, which we call the same way it does. */
interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode?: number }): void;
}

/**
 * One broker session whose messages are acknowledged only after the handler resolved, i.e. after Kafka
 * acknowledged what the message became, and in the order they arrived (what a persistent session's
 * redelivery relies on). Up to `maxInFlight` messages are with the handler at once: they reach the
 * producer in arrival order and share its batches, so one Kafka round trip is paid per batch, not per
 * message. mqtt.js only reads the next packet after `handleMessage`'s callback, and sends a PUBACK when
 * that callback is called without an error (for 3.1.1 and 5 alike; `customHandleAcks` is 5-only and only
 * picks a reason code). So the callback is called at once with a marker error, which lets mqtt.js read
 * on without a PUBACK, and the PUBACKs are sent here once every earlier message is in Kafka too; only
 * when the window is full is the callback held, until the oldest message is through. mqtt.js handles packets one
 * after another, PINGRESP included, and its keepalive gives up 1.5 keepalive intervals after the last
 * PINGRESP or ack it handled: with one produce round trip per message, a PINGRESP queued behind a
 * reconnection's backlog came too late and the session reconnected over and over; now it waits for at
 * most a window's worth of messages, which go to Kafka together.
 */
export class MqttSession {
  private client: MqttClient | undefined;
  private stopping = false;
  private attempt = 0;
  private connected = false;
  private lastError: string | undefined;
  /** Bumped on every (dis)connection: a PUBACK belongs to the connection its message came on. */
  private generation = 0;
  private window: Pending[] = [];
  private deliveries = new Set<Promise<void>>();
  /** mqtt.js's callback held while the window is full. */
  private resume: (() => void) | undefined;
  /**
   * Messages that reached Kafka (or the DLQ) but whose PUBACK was lost with their connection: the broker
   * sends them again, and they are acknowledged without being handled twice.
   */
  private readonly delivered = new Set<string>();
  /** Messages with the handler now: a redelivery of one waits for it instead of being handled twice. */
  private readonly handling = new Map<string, Promise<void>>();
  /** Consecutive deliveries that failed: the reconnection after each waits longer. */
  private failures = 0;
  private lastFailure: { at: number; reason: string } | undefined;
  private readonly reconnects: number[] = [];
  private lastSuccessAt: number | undefined;

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
      const generation = this.generation;
      const identity = identityOf(publish.topic, payload);
      const pending: Pending = { messageId: publish.messageId, qos: publish.qos, settled: false, identity };
      this.window.push(pending);
      // Only a copy the broker marks as sent before (DUP) can be one: a device may well send the same twice.
      const redelivered = publish.dup && this.delivered.delete(identity);
      const earlier = publish.dup ? this.handling.get(identity) : undefined;
      const handled = redelivered
        ? Promise.resolve()
        : earlier
          ? // Delivered by then, its identity is remembered; if it failed, this copy is handled afresh.
            earlier.then(
              () => void this.delivered.delete(identity),
              () => this.deliver(publish.topic, payload, publish),
            )
          : this.deliver(publish.topic, payload, publish);
      if (!redelivered && !earlier) {
        this.handling.set(identity, handled);
        const forget = () => {
          if (this.handling.get(identity) === handled) this.handling.delete(identity);
        };
        handled.then(forget, forget);
      }
      const delivery = handled.then(
        () => {
          pending.settled = true;
          this.failures = 0;
          this.lastSuccessAt = Date.now();
          if (generation !== this.generation) this.remember(identity);
          else this.acknowledge(client, generation);
        },
        (error: unknown) => {
          if (this.stopping || generation !== this.generation) return;
          metrics.error('publish');
          this.failures++;
          this.lastFailure = { at: Date.now(), reason: (error as Error).message };
          const waitMs = backoffMs(
            this.failures - 1,
            connection.reconnect.initialMs,
            connection.reconnect.maxMs,
          );
          logger.error(
            { err: error, topic: publish.topic, reconnectInMs: waitMs },
            'message not delivered to Kafka; reconnecting',
          );
          // Without a PUBACK the broker redelivers, from this message on, only on a new connection; the
          // wait grows with each failure in a row, so input that keeps failing cannot spin the session.
          this.dropWindow();
          client.end(true, () => {
            setTimeout(() => {
              if (!this.stopping) client.reconnect();
            }, waitMs).unref();
          });
        },
      );
      this.deliveries.add(delivery);
      void delivery.finally(() => this.deliveries.delete(delivery));
      const proceed = () => callback(readOn);
      if (redelivered || earlier)
        logger.debug({ topic: publish.topic }, 'redelivery of a message already in Kafka or on its way');
      if (this.window.length < connection.maxInFlight) proceed();
      else this.resume = proceed;
    };
    client.on('connect', () => {
      this.dropWindow();
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
      this.reconnects.push(Date.now());
      if (this.reconnects.length > LOOP_RECONNECTS) this.reconnects.shift();
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
      this.dropWindow();
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

  /** Sends the PUBACKs of the oldest messages that are through, in arrival order, and reopens the window. */
  private acknowledge(client: MqttClient, generation: number): void {
    if (generation !== this.generation) return;
    while (this.window[0]?.settled) {
      const { messageId, qos } = this.window.shift()!;
      if (qos > 0 && messageId !== undefined)
        (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
    }
    if (this.resume && this.window.length < this.options.connection.maxInFlight) {
      const resume = this.resume;
      this.resume = undefined;
      resume();
    }
  }

  /**
   * Forgets the unacknowledged messages of a connection that is gone or going: the broker redelivers them
   * to the next one, and a PUBACK sent on that one would acknowledge whatever the broker gave the same id.
   */
  private dropWindow(): void {
    this.generation++;
    for (const pending of this.window) if (pending.settled) this.remember(pending.identity);
    this.window = [];
    const resume = this.resume;
    this.resume = undefined;
    // mqtt.js discards the packets it parsed from the old connection; the held callback lets it move on.
    resume?.();
  }

  private remember(identity: string): void {
    this.delivered.add(identity);
    if (this.delivered.size > REMEMBERED) this.delivered.delete(this.delivered.values().next().value!);
  }

  private async deliver(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const { maxPayloadBytes, deadLetterPayloadBytes } = this.options.connection;
    if (payload.length > maxPayloadBytes) {
      this.options.metrics.error('oversized');
      this.options.logger.warn(
        { topic, bytes: payload.length, maxPayloadBytes },
        'message over maxPayloadBytes: dead-lettered, cut down',
      );
      return this.options.deadLetter(
        topic,
        payload,
        `payload of ${payload.length} bytes exceeds maxPayloadBytes (${maxPayloadBytes})`,
        deadLetterPayloadBytes,
      );
    }
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
    // What was handed over still reaches Kafka; its PUBACKs go out if the connection is still there.
    await Promise.allSettled([...this.deliveries]);
    await this.client?.endAsync();
    this.connected = false;
  }

  /**
   * Down while disconnected; degraded when a subscription failed, when the last delivery to Kafka failed
   * (the session is waiting to reconnect), or when it reconnected `LOOP_RECONNECTS` times within a minute.
   */
  health(): HealthReport {
    const now = Date.now();
    const detail = {
      url: this.options.connection.url,
      error: this.lastError ?? null,
      attempt: this.attempt,
      lastDeliveredAt: this.lastSuccessAt ? new Date(this.lastSuccessAt).toISOString() : null,
      lastFailure: this.lastFailure
        ? { at: new Date(this.lastFailure.at).toISOString(), reason: this.lastFailure.reason }
        : null,
    };
    if (!this.connected) return { state: 'down', detail: { ...detail, reason: 'not connected' } };
    if (this.lastError) return { state: 'degraded', detail: { ...detail, reason: this.lastError } };
    if (this.failures > 0)
      return {
        state: 'degraded',
        detail: { ...detail, reason: `delivery to Kafka failing: ${this.lastFailure?.reason}` },
      };
    if (this.reconnects.length >= LOOP_RECONNECTS && now - this.reconnects[0]! < LOOP_WINDOW_MS)
      return {
        state: 'degraded',
        detail: { ...detail, reason: `reconnected ${this.reconnects.length} times within a minute` },
      };
    return { state: 'up', detail };
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
        connection.protocolVersion === 5
          ? {
              // The broker sends no more unacknowledged QoS 1 messages than the window takes.
              receiveMaximum: connection.maxInFlight,
              ...(clean ? {} : { sessionExpiryInterval: connection.sessionExpirySeconds }),
            }
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
