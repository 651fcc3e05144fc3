import type { EventCodec } from '@sentio/avro';
import type { Projection, SinkBatch, SinkBatchesRepository } from '@sentio/clickhouse';
import type { ConsumedBatch, DeadLetter, DeadLetterPublisher } from '@sentio/kafka';
import { counter, histogram, type Logger } from '@sentio/observability';
import type { KafkaMessage } from 'kafkajs';
import type { Validator } from './record-validation.js';

/** One event stream and the table it is projected into. */
export interface StreamProjection<T> {
  topic: string;
  codec: EventCodec<T>;
  projection: Projection<T>;
  validate: Validator<T>;
}

export interface SinkOptions {
  groupId: string;
  flushIntervalMs: number;
  /** A topic's buffered records are flushed once they reach this many (or are flushIntervalMs old). */
  maxBatchRecords: number;
  /** Called after every insert, before the commit: the crash test's hook. */
  afterInsert?: (inserts: number) => void;
  /**
   * The group's committed offsets of a topic: a written-ahead cycle with a partition committed past its
   * range has landed, so partitions that get no new records never hold the others back. Without it, that
   * is learnt from the first records each partition delivers.
   */
  committedOffsets?: (topic: string) => Promise<Map<number, bigint>>;
  /**
   * Each partition's range its own block under its own token (`group:topic:partition:first-last`) instead of
   * one block per cycle. Needed when several members share one ClickHouse (a server): after a rebalance or a
   * member killed, whoever holds a partition next repeats its newest written-ahead range alone, and the
   * engine drops it if it had landed. A lone process (the embedded engine) keeps one block per cycle.
   */
  insertPerRange?: boolean;
  /**
   * Whether this member still holds its assignment, asked of the group coordinator. Checked after a cycle is
   * written ahead and before its insert: whoever is assigned the partitions after a positive answer reads
   * that write-ahead and repeats the cycle under its tokens; a member dropped before it (a session expired
   * while the process was starved or frozen) must insert nothing, because the partitions' new owner read the
   * same records from the committed offsets into ranges, and tokens, of its own.
   */
  holdsAssignment?: () => Promise<boolean>;
}

/** Whatever the sink can commit: the partition, its commit function, and the offset after the range. */
export type Committer = (topic: string, partition: number, nextOffset: string) => Promise<void>;

const projected = counter('sentio_ingest_rows_total', 'Rows inserted into ClickHouse projections', ['table']);
const deadLettered = counter(
  'sentio_ingest_dead_letters_total',
  'Records sent to the dead-letter topic by ingest',
  ['topic'],
);
const flushSeconds = histogram(
  'sentio_ingest_flush_seconds',
  'Write-ahead, insert, dead letters and commits of one flush cycle',
  ['table'],
);
const batchRows = histogram(
  'sentio_ingest_batch_records',
  'Records per flush cycle',
  ['table'],
  [10, 100, 1000, 5000, 20000, 50000, 100000, 200000],
);
const cycleRanges = histogram(
  'sentio_ingest_cycle_partitions',
  'Partition ranges per flush cycle (one insert each)',
  ['table'],
  [1, 2, 3, 4, 6, 8, 12, 16, 32],
);

/** Records of one partition gathered for the next cycle. */
interface Part {
  rows: unknown[];
  dead: DeadLetter[];
  first: bigint | undefined;
  last: bigint | undefined;
}

const emptyPart = (): Part => ({ rows: [], dead: [], first: undefined, last: undefined });

/** A flush cycle: ranges of some partitions of one topic, inserted as one block under one token. */
interface Cycle {
  token: string;
  ranges: Map<number, { first: bigint; last: bigint }>;
  parts: Map<number, Part>;
  /** Written ahead already (a repeat after a crash, or a retry after a failed insert). */
  recorded: boolean;
  /** A repeat after a crash: complete once each of its ranges was read again (or known committed). */
  repeat?: { waiting: Set<number>; landed: boolean };
  /** Each range inserted as its own block under its own token (SinkOptions.insertPerRange). */
  perRange: boolean;
  /** The assignment it was formed under: a cycle from a previous one is not inserted (see `write`). */
  epoch: number;
}

interface PartitionState {
  partition: number;
  part: Part;
  openedAt: number;
  /** Offsets below this were already handled in this session (redelivered after a rebalance). */
  nextOffset: bigint | undefined;
  /** The written-ahead cycle this partition's first records must repeat, before anything new is flushed. */
  repeat: Cycle | undefined;
}

interface TopicState {
  stream: StreamProjection<unknown>;
  partitions: Map<number, PartitionState>;
  buffered: number;
  /** Cycles of a topic run one after another: commits stay in order and the newest range is the only open one. */
  chain: Promise<void>;
  /** A cycle whose insert failed: it is retried as it was (same ranges, same token) before anything new. */
  failed: Cycle | undefined;
  failures: number;
  retryAt: number;
}

/** A cycle formed under an earlier assignment: not inserted by this member. */
class SupersededCycle extends Error {
  constructor() {
    super("cycle formed before a rebalance: left to the partitions' owner now");
  }
}

export function cycleToken(
  group: string,
  topic: string,
  ranges: Map<number, { first: bigint; last: bigint }>,
) {
  const parts = [...ranges]
    .sort(([a], [b]) => a - b)
    .map(([p, r]) => `${p}:${r.first}-${r.last}`)
    .join(',');
  return `${group}:${topic}:${parts}`;
}

/**
 * Exactly-once projection of Kafka partitions into ClickHouse.
 *
 * Records are buffered per partition; a flush cycle takes what every partition of a topic holds and inserts
 * it as one block covering one contiguous offset range per partition. Each cycle first writes its ranges
 * ahead (sink_batches, one row per range, named by the cycle's token), then inserts the rows with that token
 * as deduplication token, then publishes the dead letters and commits the offset after each range. After a
 * crash anywhere in between, the partitions restart at their committed offsets; a cycle whose ranges are
 * the newest written ahead is rebuilt record for record and inserted again under the same token, which
 * ClickHouse drops if the first insert had landed. A partition found committed past its range proves the
 * cycle landed. Records that cannot be decoded or fail validation go to the dead-letter topic (at least
 * once) and do not stop the partition.
 *
 * A repeated cycle needs every one of its partitions back in this process: a cycle only spans the partitions
 * one member held, and a lone ingest process (the embedded engine's case) always gets them all back. A cycle
 * split by a rebalance across members waits, degraded, until one member holds all of it again.
 */
export class ProjectionSink {
  private readonly byTopic = new Map<string, TopicState>();
  private ready: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private inserts = 0;
  private stopped = false;
  /** Counts assignments: what was formed under an earlier one belongs to whoever holds the partitions now. */
  private epoch = 0;
  /** Set once the buffers are landed before a rebalance: no new cycle until the next assignment. */
  private fenced = false;

  constructor(
    streams: StreamProjection<unknown>[],
    private readonly batches: SinkBatchesRepository,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly commit: Committer,
    private readonly options: SinkOptions,
    private readonly logger: Logger,
  ) {
    for (const stream of streams) {
      this.byTopic.set(stream.topic, {
        stream,
        partitions: new Map(),
        buffered: 0,
        chain: Promise.resolve(),
        failed: undefined,
        failures: 0,
        retryAt: 0,
      });
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  start(): void {
    this.timer = setInterval(
      () => this.flushDue(),
      Math.max(10, Math.floor(this.options.flushIntervalMs / 4)),
    );
  }

  /**
   * A new assignment: start every partition afresh from the durable state, and learn the cycles written ahead
   * for the ones we have. KafkaJS resumes every assigned partition (kept ones too) at its committed offset
   * after a rebalance, so whatever was buffered and not landed is read again; what was landed is committed.
   */
  onAssignment(assigned: Array<{ topic: string; partition: number }>): void {
    const keep = new Set(assigned.map((a) => `${a.topic}:${a.partition}`));
    this.epoch++;
    this.fenced = false;
    for (const state of this.byTopic.values()) {
      state.partitions.clear();
      state.buffered = 0;
      // A failed cycle is in the write-ahead log: whoever holds its partitions now repeats it from there.
      state.failed = undefined;
      state.failures = 0;
      state.retryAt = 0;
    }
    this.ready = this.batches.latest(this.options.groupId).then((latest) => this.planRepeats(latest, keep));
    // Nobody may await it before the first batch: a failure surfaces there (handle awaits it).
    this.ready.catch(() => undefined);
  }

  async handle(batch: ConsumedBatch): Promise<void> {
    const epoch = this.epoch;
    // Records of a batch fetched before a rebalance are read again by whoever holds the partition now.
    const stale = () => this.fenced || epoch !== this.epoch;
    await this.ready;
    const state = this.byTopic.get(batch.topic);
    if (!state) throw new Error(`no projection for topic ${batch.topic}`);
    const { stream } = state;
    await stream.codec.prepare(batch.messages.map((m) => m.value));
    if (stale()) return;
    const partition = this.partitionState(state, batch.partition);
    const now = Date.now();
    for (const message of batch.messages) {
      if (stale()) return;
      const offset = BigInt(message.offset);
      if (partition.nextOffset !== undefined && offset < partition.nextOffset) continue;
      partition.nextOffset = offset + 1n;
      const repeat = partition.repeat?.repeat?.waiting.has(batch.partition) ? partition.repeat : undefined;
      if (repeat) {
        const range = repeat.ranges.get(batch.partition)!;
        const part = repeat.parts.get(batch.partition)!;
        // Below the range: records of the partition's earlier ranges, which landed before this one was
        // written ahead (a partition's ranges run one after another); read again only because their commit
        // was lost or moved back.
        if (offset < range.first) continue;
        if (offset <= range.last) {
          this.add(part, stream, message, batch.partition, now);
          if (offset === range.last) this.rangeRead(state, repeat, batch.partition);
          continue;
        }
        // Past the range: read up to its (compacted) tail, or never read at all because it was committed.
        if (part.first === undefined) repeat.repeat!.landed = true;
        this.rangeRead(state, repeat, batch.partition);
      }
      if (partition.part.first === undefined) partition.openedAt = now;
      this.add(partition.part, stream, message, batch.partition, now);
      // A full topic waits for its cycle (other partitions keep decoding meanwhile): blocks stay at most
      // maxBatchRecords, and a failing insert stops this batch from being resolved, so nothing is committed
      // past it.
      if (++state.buffered >= this.options.maxBatchRecords) {
        await this.heartbeating(batch, this.schedule(state));
      }
    }
    await batch.heartbeat();
    if (state.failed) await this.heartbeating(batch, this.schedule(state, true));
  }

  /**
   * Keeps the group session alive while a cycle this batch waits for runs: KafkaJS heartbeats only between
   * batches, so an insert slower than the session timeout (a busy engine) would get the member dropped and
   * its partitions re-read elsewhere, for nothing: the engine is as slow for every member.
   */
  private async heartbeating(batch: ConsumedBatch, work: Promise<void>): Promise<void> {
    // Errors (a rebalance starting) surface from the heartbeat after the work, as before.
    const timer = setInterval(() => batch.heartbeat().catch(() => undefined), 1_000);
    try {
      await work;
    } finally {
      clearInterval(timer);
    }
    await batch.heartbeat();
  }

  /** Inserts and commits everything buffered (graceful shutdown). */
  async drain(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.landBuffered();
  }

  /**
   * Before this member rejoins its group in a rebalance (it may lose any partition): land and commit what is
   * buffered, let the cycle in flight finish, and form no new cycle until the next assignment. The group's
   * rebalance waits for this member's rejoin, so no other member reads these partitions meanwhile: a flush
   * never overlaps the next owner's. Bounded by `withinMs` (under the rebalance timeout): a cycle still
   * running then is in the write-ahead record, which the next owner repeats under the same tokens.
   *
   * `removed`: the group dropped this member before it rejoined; other members may be reading its partitions
   * already, so nothing buffered is landed (the owners read it again from the committed offsets).
   */
  async revoke(removed = false, withinMs = 20_000): Promise<void> {
    if (removed) {
      this.fence(this.epoch);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'late'>((done) => (timer = setTimeout(() => done('late'), withinMs)));
    // A landing that outlives the bound may end after the rejoin's onAssignment: it must not fence the new
    // assignment (nothing would be flushed or committed until the next rebalance, possibly never).
    const epoch = this.epoch;
    const landed = (async () => {
      await this.landBuffered();
      if (this.epoch === epoch) this.fenced = true;
      await Promise.all([...this.byTopic.values()].map((state) => state.chain));
    })();
    try {
      if ((await Promise.race([landed, bound])) === 'late') {
        this.logger.warn({ withinMs }, 'rebalance: buffers not landed in time; the next owner repeats them');
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'rebalance: landing the buffers failed; the next owner repeats them');
    } finally {
      if (this.epoch === epoch) this.fenced = true;
      clearTimeout(timer);
    }
  }

  /** This member lost the assignment `epoch`: no cycle of it is written ahead or inserted any more. */
  private fence(epoch: number): void {
    if (this.epoch !== epoch || this.fenced) return;
    this.fenced = true;
    this.logger.warn(
      { topics: this.topics },
      "no longer a member of its group: nothing buffered is inserted; the partitions' owners read it again",
    );
  }

  /** Throws `SupersededCycle` unless this member still holds the assignment the cycle was formed under. */
  private async confirmHeld(cycle: Cycle): Promise<void> {
    if (this.options.holdsAssignment && !(await this.options.holdsAssignment())) {
      this.fence(cycle.epoch);
      throw new SupersededCycle();
    }
    // Confirmed for a newer membership: the cycle's own assignment is gone.
    if (cycle.epoch !== this.epoch) throw new SupersededCycle();
  }

  private async landBuffered(): Promise<void> {
    const epoch = this.epoch;
    await Promise.all(
      [...this.byTopic.values()].map(async (state) => {
        await state.chain.catch(() => undefined);
        // A retried or new cycle; a half-repeated cycle cannot be inserted under its token: repeated on the next start.
        // Fenced (revoke's bound passed) or reassigned meanwhile: nothing here is ours to land any more, and
        // a fenced schedule does nothing, so looping on would never yield the event loop.
        while (!this.fenced && this.epoch === epoch && (state.failed || this.eligible(state).length > 0)) {
          const before = state.buffered;
          await this.schedule(state, true);
          if (state.buffered === before && !state.failed) break;
        }
      }),
    );
  }

  /** Partitions whose last flush failed, or that wait for the rest of a cycle to repeat, for /health. */
  failing(): Array<{ topic: string; partition: number; failures: number; waiting?: boolean }> {
    const result: Array<{ topic: string; partition: number; failures: number; waiting?: boolean }> = [];
    for (const [topic, state] of this.byTopic) {
      if (state.failed && state.failures > 0) {
        for (const partition of state.failed.ranges.keys())
          result.push({ topic, partition, failures: state.failures });
      }
      for (const p of state.partitions.values()) {
        const missing = p.repeat?.repeat
          ? [...p.repeat.repeat.waiting].some((q) => !state.partitions.has(q))
          : false;
        if (missing) result.push({ topic, partition: p.partition, failures: 0, waiting: true });
      }
    }
    return result;
  }

  private partitionState(state: TopicState, partition: number): PartitionState {
    let p = state.partitions.get(partition);
    if (!p) {
      p = { partition, part: emptyPart(), openedAt: 0, nextOffset: undefined, repeat: undefined };
      state.partitions.set(partition, p);
    }
    return p;
  }

  /** The cycles written ahead whose every range is still the newest of its partition: not known committed. */
  private async planRepeats(latest: SinkBatch[], assigned: Set<string>): Promise<void> {
    const newest = new Map<string, SinkBatch>();
    for (const b of latest) {
      const k = `${b.topic}:${b.partition}`;
      if (!newest.has(k) || BigInt(newest.get(k)!.firstOffset) < BigInt(b.firstOffset)) newest.set(k, b);
    }
    const cycles = new Map<string, SinkBatch[]>();
    for (const b of latest) {
      const token =
        b.cycle || `${this.options.groupId}:${b.topic}:${b.partition}:${b.firstOffset}-${b.lastOffset}`;
      cycles.set(token, [...(cycles.get(token) ?? []), b]);
    }
    // Once per topic: with a range per cycle there are as many cycles as partitions.
    const known = new Map<string, Promise<Map<number, bigint>>>();
    const committedOf = (topic: string) => {
      let offsets = known.get(topic);
      if (!offsets) {
        offsets = this.options.committedOffsets?.(topic) ?? Promise.resolve(new Map<number, bigint>());
        known.set(topic, offsets);
      }
      return offsets;
    };
    for (const [token, ranges] of cycles) {
      const stale = ranges.some(
        (b) => newest.get(`${b.topic}:${b.partition}`)?.firstOffset !== b.firstOffset,
      );
      const state = this.byTopic.get(ranges[0]!.topic);
      if (stale || !state) continue;
      if (!ranges.some((b) => assigned.has(`${b.topic}:${b.partition}`))) continue;
      const committed = await committedOf(state.stream.topic);
      // Committed past its range: the cycle landed (commits follow the insert); those partitions are done.
      const past = new Set(
        ranges
          .filter((b) => (committed.get(b.partition) ?? -1n) > BigInt(b.lastOffset))
          .map((b) => b.partition),
      );
      if (past.size === ranges.length) continue;
      const cycle: Cycle = {
        token,
        ranges: new Map(
          ranges.map((b) => [b.partition, { first: BigInt(b.firstOffset), last: BigInt(b.lastOffset) }]),
        ),
        parts: new Map(ranges.map((b) => [b.partition, emptyPart()])),
        recorded: true,
        perRange: false,
        epoch: this.epoch,
        repeat: {
          waiting: new Set(ranges.filter((b) => !past.has(b.partition)).map((b) => b.partition)),
          landed: past.size > 0,
        },
      };
      for (const b of ranges) {
        if (past.has(b.partition)) continue;
        const p = this.partitionState(state, b.partition);
        if (p.part.first === undefined) p.repeat = cycle;
      }
      const missing = ranges
        .filter((b) => !past.has(b.partition) && !assigned.has(`${b.topic}:${b.partition}`))
        .map((b) => b.partition);
      if (missing.length > 0) {
        this.logger.warn(
          { topic: state.stream.topic, cycle: token, missing },
          'a written-ahead cycle spans partitions another member holds: its partitions here wait',
        );
      }
    }
  }

  /** One range of a repeated cycle is read again; once all are, the cycle is inserted as it was. */
  private rangeRead(state: TopicState, cycle: Cycle, partition: number): void {
    cycle.repeat!.waiting.delete(partition);
    if (cycle.repeat!.waiting.size > 0) return;
    this.logger.info({ topic: state.stream.topic, cycle: cycle.token }, 'repeating a written-ahead cycle');
    // A failure leaves it as the topic's failed cycle: retried like any other, before anything new.
    this.enqueue(state, () => this.flush(state, cycle)).catch(() => undefined);
  }

  private add(
    part: Part,
    stream: StreamProjection<unknown>,
    message: KafkaMessage,
    partition: number,
    now: number,
  ): void {
    const offset = BigInt(message.offset);
    if (part.first === undefined) part.first = offset;
    part.last = offset;
    const decoded = stream.codec.decode(message.value);
    const reason = decoded.ok ? stream.validate(decoded.value, now) : decoded.reason;
    if (decoded.ok && reason === undefined) {
      part.rows.push(decoded.value);
      return;
    }
    part.dead.push({
      sourceTopic: stream.topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      reason: reason ?? 'invalid record',
      component: 'ingest',
    });
  }

  private size(part: Part): number {
    return part.rows.length + part.dead.length;
  }

  /** Partitions with records for a new cycle: none may still owe the repeat of an older one. */
  private eligible(state: TopicState): PartitionState[] {
    return [...state.partitions.values()].filter(
      (p) => p.part.first !== undefined && (!p.repeat || p.repeat.repeat === undefined),
    );
  }

  private enqueue(state: TopicState, task: () => Promise<void>): Promise<void> {
    const run = state.chain.then(task, task);
    state.chain = run.catch(() => undefined);
    return run;
  }

  /** Queues a cycle for the topic: the failed one again if there is one, else what the partitions hold now. */
  private schedule(state: TopicState, force = false): Promise<void> {
    return this.enqueue(state, async () => {
      if (this.fenced) return;
      if (!force && Date.now() < state.retryAt) return;
      const cycle = state.failed ?? this.cut(state);
      if (cycle) await this.flush(state, cycle);
    });
  }

  /** Takes every eligible partition's records as one cycle; the partitions start filling anew. */
  private cut(state: TopicState): Cycle | undefined {
    const taken = this.eligible(state);
    if (taken.length === 0) return undefined;
    const ranges = new Map<number, { first: bigint; last: bigint }>();
    const parts = new Map<number, Part>();
    for (const p of taken) {
      ranges.set(p.partition, { first: p.part.first!, last: p.part.last! });
      parts.set(p.partition, p.part);
      state.buffered -= this.size(p.part);
      p.part = emptyPart();
      p.repeat = undefined;
    }
    return {
      token: cycleToken(this.options.groupId, state.stream.topic, ranges),
      ranges,
      parts,
      recorded: false,
      perRange: this.options.insertPerRange === true,
      epoch: this.epoch,
    };
  }

  private async flush(state: TopicState, cycle: Cycle): Promise<void> {
    try {
      await this.write(state, cycle);
      state.failed = undefined;
      state.failures = 0;
    } catch (error) {
      // Formed under an earlier assignment (its insert may have failed after the rebalance): it is not this
      // assignment's failed cycle, which would be retried, superseded, in place of every new one.
      if (error instanceof SupersededCycle || cycle.epoch !== this.epoch) {
        if (state.failed === cycle) {
          state.failed = undefined;
          state.failures = 0;
        }
        this.logger.info(
          {
            topic: state.stream.topic,
            cycle: cycle.token,
            err: error instanceof SupersededCycle ? undefined : error,
          },
          new SupersededCycle().message,
        );
        return;
      }
      state.failed = cycle;
      state.failures++;
      state.retryAt = Date.now() + Math.min(30_000, 250 * 2 ** state.failures);
      // Nothing was committed past the cycle: it is written again under the same ranges and token.
      this.logger.error(
        { err: error, topic: state.stream.topic, cycle: cycle.token, failures: state.failures },
        'flush failed; retrying with backoff',
      );
      throw error;
    }
  }

  private async write(state: TopicState, cycle: Cycle): Promise<void> {
    const table = state.stream.projection.table;
    const end = flushSeconds.startTimer({ table });
    const parts = [...cycle.parts];
    // Formed under an earlier assignment: its partitions may be another member's now, which repeats the
    // written-ahead ranges itself. (revoke() lets the cycles in flight finish before this member rejoins,
    // so this only stops a cycle that outlived that bound.)
    if (cycle.epoch !== this.epoch) throw new SupersededCycle();
    if (!cycle.recorded) {
      // A member already dropped writes nothing ahead either: a stray range would read as the newest.
      await this.confirmHeld(cycle);
      await this.batches.record(
        this.options.groupId,
        [...cycle.ranges].map(([partition, r]) => ({
          topic: state.stream.topic,
          partition,
          firstOffset: String(r.first),
          lastOffset: String(r.last),
          records: this.size(cycle.parts.get(partition)!),
          // Per range: each range is its own cycle (its token derives from the range alone).
          cycle: cycle.perRange ? '' : cycle.token,
        })),
        `intent-${cycle.token}`,
      );
      cycle.recorded = true;
    }
    await this.confirmHeld(cycle);
    const rows = parts.length === 1 ? parts[0]![1].rows : parts.flatMap(([, p]) => p.rows);
    const dead = parts.flatMap(([, p]) => p.dead);
    // A cycle known to have landed (a partition of it was committed past it) needs no insert at all.
    if (!cycle.repeat?.landed) {
      if (cycle.perRange && parts.length > 1) {
        for (const [partition, p] of parts) {
          const range = new Map([[partition, cycle.ranges.get(partition)!]]);
          await state.stream.projection.insert(
            p.rows,
            cycleToken(this.options.groupId, state.stream.topic, range),
          );
        }
      } else {
        await state.stream.projection.insert(rows, cycle.token);
      }
    }
    this.options.afterInsert?.(++this.inserts);
    // Not committed under the new assignment's generation: the partition may be another member's now.
    if (cycle.epoch !== this.epoch) throw new SupersededCycle();
    await this.deadLetters.publish(dead);
    for (const [partition, p] of parts) {
      // A range never read again was committed already; the rest commit past their range.
      if (p.first === undefined) continue;
      await this.commit(state.stream.topic, partition, String(cycle.ranges.get(partition)!.last + 1n));
    }
    end();
    this.logger.debug(
      {
        topic: state.stream.topic,
        cycle: cycle.token,
        rows: rows.length,
        repeat: cycle.repeat !== undefined,
        landed: cycle.repeat?.landed === true,
      },
      'cycle landed',
    );
    projected.inc({ table }, rows.length);
    batchRows.observe({ table }, rows.length + dead.length);
    cycleRanges.observe({ table }, cycle.ranges.size);
    if (dead.length > 0) {
      deadLettered.inc({ topic: state.stream.topic }, dead.length);
      this.logger.warn(
        { topic: state.stream.topic, cycle: cycle.token, count: dead.length, firstReason: dead[0]?.reason },
        'records dead-lettered',
      );
    }
    if (cycle.repeat) {
      for (const partition of cycle.ranges.keys()) {
        const p = state.partitions.get(partition);
        if (p?.repeat === cycle) p.repeat = undefined;
      }
    }
  }

  private flushDue(): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const state of this.byTopic.values()) {
      if (now < state.retryAt) continue;
      const due =
        state.failed !== undefined ||
        this.eligible(state).some((p) => now - p.openedAt >= this.options.flushIntervalMs);
      if (due) this.schedule(state).catch(() => undefined); // logged by flush; retried after its backoff
    }
  }
}
