import { counter, histogram } from '@sentio/observability';

const messagesIn = counter(
  'sentio_connector_messages_in_total',
  'Messages received from devices (MQTT publishes, Modbus block reads)',
  ['connector'],
);
const eventsOut = counter('sentio_connector_events_out_total', 'Events acknowledged by Kafka', [
  'connector',
  'stream',
]);
const errors = counter(
  'sentio_connector_errors_total',
  'Input that failed: unmappable, unreadable, or lost',
  ['connector', 'kind'],
);
const reconnects = counter(
  'sentio_connector_reconnects_total',
  'Reconnection attempts to a broker or device',
  ['connector'],
);
const pollSeconds = histogram('sentio_connector_poll_seconds', 'Duration of one poll of one device', [
  'connector',
  'device',
]);

/** The instruments of one connector instance, labelled with its name. */
export class ConnectorMetrics {
  constructor(readonly connector: string) {}

  messageIn(count = 1): void {
    messagesIn.inc({ connector: this.connector }, count);
  }

  eventsOut(stream: string, count: number): void {
    eventsOut.inc({ connector: this.connector, stream }, count);
  }

  error(kind: string): void {
    errors.inc({ connector: this.connector, kind });
  }

  reconnect(): void {
    reconnects.inc({ connector: this.connector });
  }

  /** Starts timing a poll; call the result when the poll is done. */
  pollTimer(device: string): () => void {
    const end = pollSeconds.startTimer({ connector: this.connector, device });
    return () => {
      end();
    };
  }
}
