import { createHash } from 'node:crypto';
import { counter, type Logger } from '@sentio/observability';
import type { IHeaders, Message } from 'kafkajs';
import { RecordRefusedError, RecordTooLargeError, type EventProducer } from './event-producer.js';

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
  /**
   * Keep at most this many bytes of the value (an oversized input: its head is enough to recognise it).
   * The value is cut anyway when the letter would not fit in a record.
   */
  maxValueBytes?: number;
}

/**
 * Header names on dead-lettered records. The original key and value are kept byte for byte unless the
 * value had to be cut to fit: then `truncated` is "true", and `valueBytes` and `valueSha256` describe
 * the whole original value (both are set on every letter).
 */
export const deadLetterHeaders = {
  reason: 'sentio.dlq.reason',
  component: 'sentio.dlq.component',
  sourceTopic: 'sentio.dlq.source.topic',
  sourcePartition: 'sentio.dlq.source.partition',
  sourceOffset: 'sentio.dlq.source.offset',
  failedAt: 'sentio.dlq.failed_at',
  valueBytes: 'sentio.dlq.value.bytes',
  valueSha256: 'sentio.dlq.value.sha256',
  truncated: 'sentio.dlq.value.truncated',
} as const;

const deadLettered = counter('sentio_dead_letters_total', 'Records sent to the dead-letter topic', [
  'component',
  'source_topic',
]);
const dropped = counter(
  'sentio_dead_letters_dropped_total',
  'Dead letters the broker would not take even cut down: logged and dropped',
  ['component', 'reason'],
);

/** Room left in a record for the headers and key beside a cut value. */
const HEADROOM_BYTES = 16 * 1024;

function bytesOf(v: Buffer | string | null): Buffer | null {
  return v === null ? null : typeof v === 'string' ? Buffer.from(v) : v;
}

export class DeadLetterPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topic: string,
    private readonly logger?: Logger,
  ) {}

  /**
   * Resolves once the broker has the records, so the caller may then commit past them. A letter the
   * broker refuses even cut down (its headers alone too large, say) is counted, logged and dropped: the
   * input it stands for is unusable either way, and failing here would only bring it back again.
   */
  async publish(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const failedAt = String(Date.now());
    const records = letters.map((l) => this.record(l, failedAt));
    try {
      await this.producer.send(this.topic, records);
    } catch (error) {
      if (letters.length === 1) return this.drop(letters[0]!, error);
      // One of them did not fit: send each alone, so only that one is dropped.
      for (let i = 0; i < letters.length; i++) {
        await this.producer.send(this.topic, [records[i]!]).catch((e: unknown) => this.drop(letters[i]!, e));
      }
    }
    for (const l of letters) deadLettered.inc({ component: l.component, source_topic: l.sourceTopic });
  }

  private record(l: DeadLetter, failedAt: string): Message {
    const value = bytesOf(l.value);
    const key = bytesOf(l.key);
    const fit = this.producer.maxRecordBytes - HEADROOM_BYTES - (key?.length ?? 0);
    const keep = Math.max(0, Math.min(l.maxValueBytes ?? Infinity, fit));
    const truncated = value !== null && value.length > keep;
    return {
      key: l.key,
      value: truncated ? value.subarray(0, keep) : l.value,
      headers: {
        ...l.headers,
        [deadLetterHeaders.reason]: l.reason.slice(0, 2000),
        [deadLetterHeaders.component]: l.component,
        [deadLetterHeaders.sourceTopic]: l.sourceTopic,
        [deadLetterHeaders.sourcePartition]: String(l.partition),
        [deadLetterHeaders.sourceOffset]: l.offset,
        [deadLetterHeaders.failedAt]: failedAt,
        [deadLetterHeaders.valueBytes]: String(value?.length ?? 0),
        [deadLetterHeaders.valueSha256]: createHash('sha256')
          .update(value ?? Buffer.alloc(0))
          .digest('hex'),
        ...(truncated && { [deadLetterHeaders.truncated]: 'true' }),
      },
    };
  }

  private drop(letter: DeadLetter, error: unknown): void {
    if (!(error instanceof RecordTooLargeError) && !(error instanceof RecordRefusedError)) {
      // Not a refusal of this record (the producer is stopping, say): the caller must not take it as sent.
      throw error;
    }
    const reason = error instanceof RecordTooLargeError ? 'too_large' : 'refused';
    dropped.inc({ component: letter.component, reason });
    this.logger?.error(
      { err: error, component: letter.component, sourceTopic: letter.sourceTopic, reason: letter.reason },
      'dead letter dropped: the broker would not take it',
    );
  }
}
