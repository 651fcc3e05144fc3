import { counter } from '@sentio/observability';
import type { IHeaders } from 'kafkajs';
import type { EventProducer } from './event-producer.js';

export interface DeadLetter {
  sourceTopic: string;
  partition: number;
  offset: string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  /** Why the record could not be used, for the operator who reads the DLQ. */
  reason: string;
  /** The component that gave up on it (ingest, connector name, ...). */
  component: string;
  headers?: IHeaders;
}

/** Header names on dead-lettered records; the original key and value are kept byte for byte. */
export const deadLetterHeaders = {
  reason: 'sentio.dlq.reason',
  component: 'sentio.dlq.component',
  sourceTopic: 'sentio.dlq.source.topic',
  sourcePartition: 'sentio.dlq.source.partition',
  sourceOffset: 'sentio.dlq.source.offset',
  failedAt: 'sentio.dlq.failed_at',
} as const;

const deadLettered = counter('sentio_dead_letters_total', 'Records sent to the dead-letter topic', [
  'component',
  'source_topic',
]);

export class DeadLetterPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topic: string,
  ) {}

  /** Resolves once the broker has the records, so the caller may then commit past them. */
  async publish(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = String(Date.now());
    await this.producer.send(
      this.topic,
      letters.map((l) => ({
        key: l.key,
        value: l.value,
        headers: {
          ...l.headers,
          [deadLetterHeaders.reason]: l.reason.slice(0, 2000),
          [deadLetterHeaders.component]: l.component,
          [deadLetterHeaders.sourceTopic]: l.sourceTopic,
          [deadLetterHeaders.sourcePartition]: String(l.partition),
          [deadLetterHeaders.sourceOffset]: l.offset,
          [deadLetterHeaders.failedAt]: failedAt,
        },
      })),
    );
    for (const l of letters) deadLettered.inc({ component: l.component, source_topic: l.sourceTopic });
  }
}
