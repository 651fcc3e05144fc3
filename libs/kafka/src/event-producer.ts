import { counter, histogram, type Logger } from '@sentio/observability';
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';

const { CompressionTypes, Partitioners } = kafkajs;
import type { KafkaConfig } from './kafka.config.js';

interface Pending {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const sent = counter('sentio_kafka_produced_records_total', 'Records acknowledged by the broker', ['topic']);
const failed = counter('sentio_kafka_produce_failures_total', 'Records whose produce request failed', [
  'topic',
]);
const requestSeconds = histogram(
  'sentio_kafka_produce_request_seconds',
  'Duration of one batched produce request',
);

/**
 * An idempotent, acks=all producer with the linger and batch size KafkaJS lacks: records queue until the
 * batch is full or the linger time has passed, then go out in one request while the next batch fills.
 * `send` resolves only when the broker has acknowledged the record, so callers can commit upstream progress
 * (an MQTT ack, a Kafka offset) on that and lose nothing.
 */
function size(message: Message): number {
  const { key, value } = message;
  return (
    64 +
    (key ? (typeof key === 'string' ? key.length * 3 : key.length) : 0) +
    (value ? (typeof value === 'string' ? value.length * 3 : value.length) : 0)
  );
}

export class EventProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private queued = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private writing = false;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly config: KafkaConfig['producer'],
    private readonly logger: Logger,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer retries until delivered (as Kafka's own clients do); a cap would let a
      // broker outage turn into lost records.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 30_000 },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  send(topic: string, messages: Message[]): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    if (messages.length === 0) return Promise.resolve();
    // Large sends are cut into request-sized pieces, so no partition's batch outgrows the broker's limit.
    const pieces: Promise<void>[] = [];
    let start = 0;
    while (start < messages.length) {
      let bytes = 0;
      let end = start;
      while (
        end < messages.length &&
        end - start < this.config.batchSize &&
        (end === start || bytes < this.config.batchBytes)
      ) {
        bytes += size(messages[end]!);
        end++;
      }
      const piece = messages.slice(start, end);
      pieces.push(
        new Promise<void>((resolve, reject) => {
          this.queue.push({ topic, messages: piece, bytes, resolve, reject });
          this.queued += piece.length;
          this.queuedBytes += bytes;
          this.schedule();
        }),
      );
      start = end;
    }
    return pieces.length === 1 ? pieces[0]! : Promise.all(pieces).then(() => undefined);
  }

  /** Sends whatever is queued now and waits until the broker has acknowledged all of it. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing) {
      this.dispatch();
      await this.inFlight;
    }
  }

  async disconnect(): Promise<void> {
    await this.flush();
    this.connected = false;
    await this.producer.disconnect();
  }

  private schedule(): void {
    if (this.queued >= this.config.batchSize || this.queuedBytes >= this.config.batchBytes) {
      this.dispatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.dispatch(), this.config.lingerMs);
    }
  }

  private dispatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // One request at a time keeps the idempotent producer's ordering; what arrives meanwhile rides the next.
    if (this.writing || this.queue.length === 0) return;
    // Take whole sends up to one request's worth; the rest goes out right after.
    let records = 0;
    let bytes = 0;
    let take = 0;
    while (
      take < this.queue.length &&
      (take === 0 || (records < this.config.batchSize && bytes < this.config.batchBytes))
    ) {
      records += this.queue[take]!.messages.length;
      bytes += this.queue[take]!.bytes;
      take++;
    }
    const batch = this.queue.splice(0, take);
    this.queued -= records;
    this.queuedBytes -= bytes;
    this.writing = true;
    this.inFlight = this.write(batch).finally(() => {
      this.writing = false;
      // What queued during the request has waited long enough: send it now.
      if (this.queue.length > 0) this.dispatch();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    let records = 0;
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) for (const m of p.messages) list.push(m);
      else byTopic.set(p.topic, [...p.messages]);
      records += p.messages.length;
    }
    const end = requestSeconds.startTimer();
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      for (const [topic, messages] of byTopic) sent.inc({ topic }, messages.length);
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const [topic, messages] of byTopic) failed.inc({ topic }, messages.length);
      this.logger.error({ err: error, records }, 'produce failed after retries');
      for (const p of batch) p.reject(error as Error);
    } finally {
      end();
    }
  }
}
