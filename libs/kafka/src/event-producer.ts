import { counter, histogram, type HealthReport, type Logger } from '@sentio/observability';
import kafkajs, { type Admin, type Kafka, type Message, type Producer } from 'kafkajs';

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
const refused = counter(
  'sentio_kafka_produce_refused_total',
  'Records refused before sending: larger than producer.maxRecordBytes',
  ['topic'],
);
const recreated = counter(
  'sentio_kafka_producer_recreated_total',
  'Producers replaced after their idempotence state went bad (sequence or producer id errors)',
);
const resent = counter(
  'sentio_kafka_produce_resent_total',
  'Records re-sent by a new producer after the broker refused the old one; each is in Kafka twice if an ' +
    'earlier, unacknowledged attempt of it was written (the broker no longer knew the old producer id)',
);
const requestSeconds = histogram(
  'sentio_kafka_produce_request_seconds',
  'Duration of one batched produce request',
);

/** The producer section of the Kafka config; the limits have the section's defaults when left out. */
export type ProducerSettings = Omit<KafkaConfig['producer'], 'maxRecordBytes' | 'stallMs'> &
  Partial<Pick<KafkaConfig['producer'], 'maxRecordBytes' | 'stallMs'>>;

/** A record larger than `producer.maxRecordBytes`: the broker would refuse it, and with it its request. */
export class RecordTooLargeError extends Error {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`record of ${bytes} bytes for ${topic} exceeds the producer's limit of ${limit} bytes`);
    this.name = 'RecordTooLargeError';
  }
}

/** The broker refused these records (`type` is its error code name); the rest of their request went through. */
export class RecordRefusedError extends Error {
  constructor(
    readonly topic: string,
    readonly type: string | undefined,
    cause: unknown,
  ) {
    super(`${topic}: the broker refused the record: ${(cause as Error).message}`, { cause });
    this.name = 'RecordRefusedError';
  }
}

/** Broker errors about one record or one partition's records: the rest of a request is fine. */
const recordErrors = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
  'INVALID_REQUIRED_ACKS',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
]);
/** Errors after which this producer's idempotence state (producer id, sequences) cannot be trusted. */
const stateErrors = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

function errorType(error: unknown): string | undefined {
  let e = error as { type?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.type === 'string') return e.type;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

/**
 * Thrown from the partitioner, while KafkaJS groups a request's records and before it sends any, when its
 * metadata has the request's partitions led by more than one broker: see `write`.
 */
class LeadersSplit extends Error {
  readonly retriable = false;
  constructor(readonly leaders: Map<number, number>) {
    super('the partitions of one request are led by different brokers');
  }
}

function leadersSplit(error: unknown): LeadersSplit | undefined {
  let e = error as { cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof LeadersSplit) return e;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return undefined;
}

function size(message: Message): number {
  const { key, value } = message;
  return (
    64 +
    (key ? (typeof key === 'string' ? key.length * 3 : key.length) : 0) +
    (value ? (typeof value === 'string' ? value.length * 3 : value.length) : 0)
  );
}

/** Exact bytes of a record's key, value and headers (strings as UTF-8). */
function recordBytes(message: Message): number {
  const len = (v: Buffer | string | null | undefined) =>
    v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  let bytes = len(message.key) + len(message.value as Buffer | string | null);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name);
    for (const v of Array.isArray(value) ? value : [value]) bytes += len(v as Buffer | string | undefined);
  }
  return bytes;
}

type PartitionMetadata = Parameters<
  ReturnType<typeof Partitioners.DefaultPartitioner>
>[0]['partitionMetadata'][number];

/** The records of one request (one leader's partitions, or fewer), each with the send it belongs to. */
interface Group {
  topic: string;
  messages: Message[];
  owners: Pending[];
}

/** How long a topic's partition list is used before it is read again (partitions are rarely added). */
const metadataMaxAgeMs = 60_000;

/**
 * An idempotent, acks=all producer with the linger and batch size KafkaJS lacks: records queue until the
 * batch is full or the linger time has passed, then go out in one request while the next batch fills.
 * `send` resolves only when the broker has acknowledged the record, so callers can commit upstream progress
 * (an MQTT ack, a Kafka offset) on that and lose nothing.
 *
 * Under broker failure (a leader killed, leadership moving) a request never spans two brokers, and KafkaJS
 * retries it under the same producer id and sequences until a leader acknowledges it, so a resolved send
 * is in Kafka exactly once, and a send rejects only on an error that is not retriable (see `write`).
 * One bad record must not fail its neighbours: a record over `maxRecordBytes` is refused before it joins a
 * request (`RecordTooLargeError`), and a request the broker refuses is sent again partition by partition,
 * then record by record, so only the sends holding the records the broker refuses fail. A producer whose
 * idempotence state the broker refuses is replaced by a new one, and what it held is sent again (counted
 * by `sentio_kafka_produce_resent_total`).
 */
export class EventProducer {
  private producer: Producer;
  private queue: Pending[] = [];
  private queued = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private writing = false;
  private connected = false;
  /** When the broker last acknowledged a request, and when the oldest unacknowledged work was queued. */
  private lastAckAt = Date.now();
  private waitingSince: number | undefined;
  private lastError: { at: number; message: string } | undefined;
  private recreations = 0;
  /** Partitions are chosen here, before KafkaJS sees the records: each request holds one leader's. */
  private readonly partitioner = Partitioners.DefaultPartitioner();
  private readonly admin: Admin;
  private readonly metadata = new Map<string, { at: number; partitions: PartitionMetadata[] }>();
  /** The request each record is in, while KafkaJS sends it: its first and last record, and their leaders. */
  private readonly requests = new WeakMap<
    Message,
    { first: Message; last: Message; leaders: Map<number, number> }
  >();

  private readonly config: KafkaConfig['producer'];

  constructor(
    private readonly kafka: Kafka,
    config: ProducerSettings,
    private readonly logger: Logger,
  ) {
    this.config = { maxRecordBytes: 1_000_000, stallMs: 30_000, ...config };
    this.producer = this.create();
    this.admin = kafka.admin();
  }

  private create(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Records arrive with their partition chosen (see leaderGroups), which this partitioner keeps.
      createPartitioner: () => this.keepPartition,
      // An idempotent producer retries until delivered (as Kafka's own clients do); a cap would let a
      // broker outage turn into lost records.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 30_000 },
    });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    this.connected = true;
  }

  /** The largest record (key + value + headers) `send` accepts. */
  get maxRecordBytes(): number {
    return this.config.maxRecordBytes;
  }

  send(topic: string, messages: Message[]): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('producer is not connected'));
    if (messages.length === 0) return Promise.resolve();
    for (const message of messages) {
      const bytes = recordBytes(message);
      if (bytes > this.config.maxRecordBytes) {
        refused.inc({ topic });
        return Promise.reject(new RecordTooLargeError(topic, bytes, this.config.maxRecordBytes));
      }
    }
    // Own copies: the record's partition is written onto it (see leaderGroups).
    const own = messages.map((m) => ({ ...m }));
    // Large sends are cut into request-sized pieces, so no partition's batch outgrows the broker's limit.
    const pieces: Promise<void>[] = [];
    let start = 0;
    while (start < own.length) {
      let bytes = 0;
      let end = start;
      while (
        end < own.length &&
        end - start < this.config.batchSize &&
        (end === start || bytes < this.config.batchBytes)
      ) {
        bytes += size(own[end]!);
        end++;
      }
      const piece = own.slice(start, end);
      pieces.push(
        new Promise<void>((resolve, reject) => {
          this.queue.push({ topic, messages: piece, bytes, resolve, reject });
          this.queued += piece.length;
          this.queuedBytes += bytes;
          this.waitingSince ??= Date.now();
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
    await this.admin.disconnect();
  }

  /**
   * Degraded while records wait longer than `stallMs` for the broker (an outage: the producer retries
   * without end, so callers wait rather than fail), with when the broker last acknowledged and why the
   * last request failed.
   */
  health(): HealthReport {
    const now = Date.now();
    const pending = this.queued + (this.writing ? 1 : 0);
    const detail = {
      queuedRecords: this.queued,
      lastAckAt: new Date(this.lastAckAt).toISOString(),
      lastError: this.lastError
        ? { at: new Date(this.lastError.at).toISOString(), message: this.lastError.message }
        : null,
      recreated: this.recreations,
    };
    if (!this.connected) return { state: 'down', detail: { ...detail, reason: 'not connected' } };
    const waiting = this.waitingSince === undefined ? 0 : now - this.waitingSince;
    if (pending > 0 && waiting > this.config.stallMs) {
      return {
        state: 'degraded',
        detail: {
          ...detail,
          reason: `stalled: records waiting ${Math.round(waiting / 1000)} s for the broker`,
        },
      };
    }
    return { state: 'up', detail };
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
      this.waitingSince = this.queue.length > 0 ? Date.now() : undefined;
      // What queued during the request has waited long enough: send it now.
      if (this.queue.length > 0) this.dispatch();
    });
  }

  /**
   * KafkaJS's partitioner, called for each record of a request (in order, every attempt) with KafkaJS's own
   * metadata: keeps the record's partition, and refuses the attempt, before anything is sent, when the
   * request's partitions are led by more than one broker.
   */
  private readonly keepPartition = (args: {
    partitionMetadata: PartitionMetadata[];
    message: Message;
  }): number => {
    const { message } = args;
    const partition = message.partition!;
    const request = this.requests.get(message);
    if (request) {
      if (message === request.first) request.leaders.clear();
      const leader = args.partitionMetadata.find((p) => p.partitionId === partition)?.leader ?? -1;
      request.leaders.set(partition, leader);
      if (message === request.last && new Set(request.leaders.values()).size > 1) {
        throw new LeadersSplit(new Map(request.leaders));
      }
    }
    return partition;
  };

  /**
   * One request per leader broker, all brokers at once. A KafkaJS request spanning several brokers is not
   * safe when one of them fails: its retry skips every broker that already answered, so the records of a
   * partition whose leadership moved onto such a broker are never sent and the request still resolves
   * (lost), and a broker whose answer was still on its way is sent its records again under new sequence
   * numbers (written twice). So each request holds the partitions of one leader, and every attempt KafkaJS
   * makes is checked by its partitioner (`keepPartition`) before it sends: an attempt whose partitions
   * KafkaJS sees led by several brokers is refused unsent, and its records go again, one request per leader.
   * A failed single-broker attempt rolls back the sequences of all its partitions, and the next attempt (to
   * whichever broker leads by then) reuses them, so the broker writes each record once.
   */
  private async write(batch: Pending[]): Promise<void> {
    const end = requestSeconds.startTimer();
    try {
      const groups = await this.leaderGroups(batch);
      const failures = new Map<Pending, Error>();
      const stale: Group[] = [];
      await Promise.all(groups.map((group) => this.writeGroup(group, failures, stale)));
      if (stale.length > 0) {
        // Every request of the old producer has settled: nothing it sent can still be written.
        await this.recreate();
        const records = stale.reduce((n, g) => n + g.messages.length, 0);
        resent.inc(records);
        this.logger.warn({ records }, 're-sending through the new producer what the broker refused');
        await Promise.all(stale.map((group) => this.writeGroup(group, failures, undefined)));
      }
      for (const p of batch) {
        const error = failures.get(p);
        if (error) p.reject(error);
        else p.resolve();
      }
      if (failures.size > 0) {
        this.logger.error(
          { err: [...failures.values()][0], sends: failures.size },
          'records refused by the broker; the rest of their request is delivered',
        );
      }
    } catch (error) {
      // No partition could be chosen (no metadata for the topic): nothing was sent.
      this.failure(error);
      for (const p of batch) p.reject(error as Error);
    } finally {
      end();
    }
  }

  /**
   * The batch's records by topic and leader broker, in send order; a record without a partition is given
   * one here (KafkaJS's default partitioner over the topic's metadata).
   */
  private async leaderGroups(batch: Pending[]): Promise<Group[]> {
    const groups = new Map<string, Group>();
    for (const p of batch) {
      const partitionMetadata = await this.partitionsOf(p.topic);
      for (const m of p.messages) {
        if (m.partition === undefined || m.partition === null) {
          m.partition = this.partitioner({ topic: p.topic, partitionMetadata, message: m });
        }
        const leader = partitionMetadata.find((x) => x.partitionId === m.partition)?.leader ?? -1;
        const key = `${p.topic}\0${leader}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { topic: p.topic, messages: [], owners: [] }));
        group.messages.push(m);
        group.owners.push(p);
      }
    }
    return [...groups.values()];
  }

  /** A topic's partitions and leaders, as the partitioner wants them; kept a while, re-read when stale. */
  private async partitionsOf(topic: string): Promise<PartitionMetadata[]> {
    const cached = this.metadata.get(topic);
    if (cached && Date.now() - cached.at < metadataMaxAgeMs) return cached.partitions;
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new Error(`${topic}: no partitions in the cluster's metadata`);
    this.metadata.set(topic, { at: Date.now(), partitions });
    return partitions;
  }

  /** The group's records split by `by`, each keeping its send. */
  private split(group: Group, by: (m: Message) => number): Group[] {
    const parts = new Map<number, Group>();
    group.messages.forEach((m, i) => {
      const k = by(m);
      let part = parts.get(k);
      if (!part) parts.set(k, (part = { topic: group.topic, messages: [], owners: [] }));
      part.messages.push(m);
      part.owners.push(group.owners[i]!);
    });
    return [...parts.values()];
  }

  /**
   * Sends one leader's records. Refused unsent because their partitions have several leaders by now: sent
   * again per leader. Refused otherwise with several partitions: sent again partition by partition with the
   * same sequences (the broker acknowledges a partition it wrote without writing it twice). One partition
   * refused for one of its records: sent record by record (the broker wrote none of the request, and KafkaJS
   * rolled its sequence back), so only the sends holding the records the broker refuses fail. Refused for
   * this producer's id or sequences: left in `stale` for a new producer.
   */
  private async writeGroup(
    group: Group,
    failures: Map<Pending, Error>,
    stale: Group[] | undefined,
  ): Promise<void> {
    const { topic, messages } = group;
    try {
      await this.request(topic, messages);
      sent.inc({ topic }, messages.length);
      return;
    } catch (error) {
      const split = leadersSplit(error);
      if (split) {
        this.metadata.delete(topic);
        this.logger.info(
          { topic, leaders: [...new Set(split.leaders.values())] },
          'leaders moved: request re-sent per leader',
        );
        const parts = this.split(group, (m) => split.leaders.get(m.partition!) ?? -1);
        await Promise.all(parts.map((part) => this.writeGroup(part, failures, stale)));
        return;
      }
      this.failure(error);
      if (new Set(messages.map((m) => m.partition)).size > 1) {
        const parts = this.split(group, (m) => m.partition!);
        await Promise.all(parts.map((part) => this.writeGroup(part, failures, stale)));
        return;
      }
      const type = errorType(error);
      // The broker has these records already (an old broker's answer to a repeated sequence).
      if (type === 'DUPLICATE_SEQUENCE_NUMBER') return;
      if (stale && type && stateErrors.has(type)) {
        stale.push(group);
        return;
      }
      if (messages.length === 1 || !type || !recordErrors.has(type)) {
        failed.inc({ topic }, messages.length);
        const cause =
          type && recordErrors.has(type) ? new RecordRefusedError(topic, type, error) : (error as Error);
        for (const p of group.owners) failures.set(p, cause);
        return;
      }
    }
    for (const [i, m] of messages.entries()) {
      try {
        await this.request(topic, [m]);
        sent.inc({ topic });
      } catch (error) {
        this.failure(error);
        failed.inc({ topic });
        const type = errorType(error);
        failures.set(
          group.owners[i]!,
          type && recordErrors.has(type) ? new RecordRefusedError(topic, type, error) : (error as Error),
        );
      }
    }
  }

  private async request(topic: string, messages: Message[]): Promise<void> {
    const request = { first: messages[0]!, last: messages[messages.length - 1]!, leaders: new Map() };
    for (const m of messages) this.requests.set(m, request);
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        topicMessages: [{ topic, messages }],
      });
    } finally {
      for (const m of messages) this.requests.delete(m);
    }
    this.lastAckAt = Date.now();
  }

  private failure(error: unknown): void {
    this.lastError = { at: Date.now(), message: (error as Error).message };
  }

  /** Replaces the KafkaJS producer: a new producer id, with sequences from 0. */
  private async recreate(): Promise<void> {
    const old = this.producer;
    this.producer = this.create();
    this.recreations++;
    recreated.inc();
    this.logger.warn({ recreated: this.recreations }, 'producer state refused by the broker: new producer');
    await old.disconnect().catch(() => undefined);
    await this.producer.connect();
  }
}
