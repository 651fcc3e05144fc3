import type { EventCodec } from '@sentio/avro';
import {
  eventStreams,
  type DeviceLifecycle,
  type DeviceLogRecord,
  type TelemetrySample,
} from '@sentio/events';
import {
  RecordRefusedError,
  RecordTooLargeError,
  type DeadLetterPublisher,
  type EventProducer,
} from '@sentio/kafka';
import type { HealthReport } from '@sentio/observability';
import type { EventSink, RawDeadLetter } from './connector.type.js';
import type { ConnectorMetrics } from './connector-metrics.util.js';

export interface ConnectorCodecs {
  telemetry: EventCodec<TelemetrySample>;
  lifecycle: EventCodec<DeviceLifecycle>;
  logs: EventCodec<DeviceLogRecord>;
}

/**
 * Header names on a connector's dead letters: where the raw payload came from. A letter's protocol
 * details (`attributes`) go under the same prefix: `sentio.connector.opcua.node_id`.
 */
export const connectorDeadLetterHeaders = {
  protocol: 'sentio.connector.protocol',
  origin: 'sentio.connector.origin',
  opcuaNodeId: 'sentio.connector.opcua.node_id',
  opcuaStatusCode: 'sentio.connector.opcua.status_code',
  opcuaDataType: 'sentio.connector.opcua.data_type',
} as const;

const attributeHeaderPrefix = 'sentio.connector.';

/** How much of an event record that Kafka refuses its dead letter keeps. */
const REFUSED_RECORD_KEEP_BYTES = 4096;

/**
 * One connector's way to Kafka: Avro-encoded, keyed by device id, counted under the connector's name.
 * It also keeps what the connector's health reports: when Kafka last took its events, why it last
 * failed, and how long the oldest send has been waiting (a stalled pipeline).
 */
export class ConnectorSink implements EventSink {
  private lastSuccessAt: number | undefined;
  private lastFailure: { at: number; reason: string } | undefined;
  private readonly waiting = new Map<object, number>();

  constructor(
    private readonly connector: string,
    private readonly codecs: ConnectorCodecs,
    private readonly producer: EventProducer,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly metrics: ConnectorMetrics,
  ) {}

  telemetry(samples: TelemetrySample[]): Promise<void> {
    return this.send('telemetry', this.codecs.telemetry, eventStreams.telemetry.key, samples);
  }

  lifecycle(events: DeviceLifecycle[]): Promise<void> {
    return this.send('lifecycle', this.codecs.lifecycle, eventStreams.lifecycle.key, events);
  }

  logs(records: DeviceLogRecord[]): Promise<void> {
    return this.send('logs', this.codecs.logs, eventStreams.logs.key, records);
  }

  async deadLetter(letter: RawDeadLetter): Promise<void> {
    await this.track(() => this.publishDeadLetter(letter));
  }

  /**
   * Degraded when a send has waited longer than `stallMs` for Kafka while input is pending; the detail
   * says when Kafka last took this connector's events and why a send last failed.
   */
  health(stallMs: number): HealthReport {
    const now = Date.now();
    const oldest = Math.min(...this.waiting.values());
    const detail = {
      lastSuccessAt: this.lastSuccessAt ? new Date(this.lastSuccessAt).toISOString() : null,
      lastFailure: this.lastFailure
        ? { at: new Date(this.lastFailure.at).toISOString(), reason: this.lastFailure.reason }
        : null,
      pendingSends: this.waiting.size,
    };
    if (this.waiting.size > 0 && now - oldest > stallMs) {
      return {
        state: 'degraded',
        detail: {
          ...detail,
          reason: `stalled: ${this.waiting.size} sends waiting ${Math.round((now - oldest) / 1000)} s for Kafka`,
        },
      };
    }
    return { state: 'up', detail };
  }

  private async track(work: () => Promise<void>): Promise<void> {
    const token = {};
    this.waiting.set(token, Date.now());
    try {
      await work();
      this.lastSuccessAt = Date.now();
    } catch (error) {
      this.lastFailure = { at: Date.now(), reason: (error as Error).message };
      throw error;
    } finally {
      this.waiting.delete(token);
    }
  }

  private async publishDeadLetter(letter: RawDeadLetter): Promise<void> {
    await this.deadLetters.publish([
      {
        // Not a Kafka record: the protocol and origin take the source topic's place, with no offset.
        sourceTopic: `${letter.protocol}:${letter.origin}`,
        partition: -1,
        offset: '-1',
        key: letter.key,
        value: letter.payload,
        reason: letter.reason,
        component: this.connector,
        ...(letter.keepBytes !== undefined && { maxValueBytes: letter.keepBytes }),
        headers: {
          ...Object.fromEntries(
            Object.entries(letter.attributes ?? {}).map(([name, value]) => [
              `${attributeHeaderPrefix}${name}`,
              value,
            ]),
          ),
          [connectorDeadLetterHeaders.protocol]: letter.protocol,
          [connectorDeadLetterHeaders.origin]: letter.origin,
        },
      },
    ]);
    this.metrics.eventsOut('dlq', 1);
  }

  private async send<T>(
    stream: string,
    codec: EventCodec<T>,
    key: (r: T) => string,
    records: T[],
  ): Promise<void> {
    if (records.length === 0) return;
    await this.track(async () => {
      const messages = records.map((r) => ({ key: key(r), value: codec.encode(r) }));
      // A record Kafka would refuse (a huge log line, say) goes to the DLQ instead of failing the others.
      const fits: typeof messages = [];
      for (const m of messages) {
        const bytes = Buffer.byteLength(m.key) + m.value.length;
        if (bytes <= this.producer.maxRecordBytes) fits.push(m);
        else {
          const error = new RecordTooLargeError(codec.topic, bytes, this.producer.maxRecordBytes);
          await this.refused(stream, codec.topic, m, error);
        }
      }
      try {
        await this.producer.send(codec.topic, fits);
      } catch (error) {
        if (!(error instanceof RecordTooLargeError) && !(error instanceof RecordRefusedError)) throw error;
        // Kafka refused what it was given: each record is dead-lettered rather than lost or retried forever.
        for (const m of fits) await this.refused(stream, codec.topic, m, error);
        return;
      }
      this.metrics.eventsOut(stream, fits.length);
    });
  }

  private async refused(
    stream: string,
    topic: string,
    message: { key: string; value: Buffer },
    error: Error,
  ): Promise<void> {
    this.metrics.error('refused');
    await this.deadLetters.publish([
      {
        sourceTopic: topic,
        partition: -1,
        offset: '-1',
        key: message.key,
        value: message.value,
        reason: `${stream} event refused by Kafka: ${error.message}`,
        component: this.connector,
        maxValueBytes: REFUSED_RECORD_KEEP_BYTES,
      },
    ]);
    this.metrics.eventsOut('dlq', 1);
  }
}
