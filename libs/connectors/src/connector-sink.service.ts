import type { EventCodec } from '@sentio/avro';
import {
  eventStreams,
  type DeviceLifecycle,
  type DeviceLogRecord,
  type TelemetrySample,
} from '@sentio/events';
import type { DeadLetterPublisher, EventProducer } from '@sentio/kafka';
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

/** One connector's way to Kafka: Avro-encoded, keyed by device id, counted under the connector's name. */
export class ConnectorSink implements EventSink {
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
    await this.producer.send(
      codec.topic,
      records.map((r) => ({ key: key(r), value: codec.encode(r) })),
    );
    this.metrics.eventsOut(stream, records.length);
  }
}
