/**
 * Resuming a live subscription after a reconnect. Every event a live channel sends carries a cursor: for
 * each partition of its topic, the next offset this instance had read when it sent the event. Offsets are
 * the broker's, so a cursor means the same on every API instance (each reads the whole stream). A client
 * that passes the cursor of the last event it received gets, from any instance whose buffer covers it,
 * every event after that one exactly once (per partition in order), then the live ones; an instance that
 * cannot cover it (it started reading after the cursor, or the events left its buffer) fails the
 * subscription with a clear error instead of leaving a silent gap.
 */
export class ResumeNotCoveredError extends Error {
  readonly code = 'RESUME_NOT_COVERED';
  constructor(message: string) {
    // The code leads the message: graphql-ws clients see the message whatever the transport keeps.
    super(`RESUME_NOT_COVERED: ${message}`);
  }
}

export function formatCursor(next: ReadonlyMap<number, bigint>): string {
  return [...next]
    .sort(([a], [b]) => a - b)
    .map(([p, o]) => `${p}:${o}`)
    .join(',');
}

/** Parses `partition:offset,...`; throws an Error naming the bad part. */
export function parseCursor(text: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const part of text.split(',')) {
    const m = /^(\d{1,6}):(\d{1,19})$/.exec(part.trim());
    if (!m)
      throw new Error(`after: expected a cursor like "0:12,1:40" (partition:offset,...), got "${part}"`);
    out.set(Number(m[1]), BigInt(m[2]!));
  }
  return out;
}

interface Buffered<T> {
  partition: number;
  offset: bigint;
  at: number;
  event: T;
}

export interface Resumption<T> {
  /** Buffered events after the cursor, oldest first. */
  replay: T[];
  /** For each live event (its partition and offset): deliver, skip (already replayed), or fail. */
  accepts(partition: number, offset: bigint): boolean | ResumeNotCoveredError;
}

/** What one instance has read of one topic, and a bounded buffer of its recent events for resumes. */
export class ReplayLog<T> {
  private readonly events: Array<Buffered<T>> = [];
  /** First offset this instance read, per partition. */
  private readonly start = new Map<number, bigint>();
  /** Next offset to read, per partition. */
  private readonly next = new Map<number, bigint>();
  /** Offsets below this have left the buffer, per partition. */
  private readonly evicted = new Map<number, bigint>();
  /** Before the first batch: this instance reads the partition from this offset or later. */
  private readonly floor = new Map<number, bigint>();

  constructor(
    private readonly maxEvents: number,
    private readonly windowMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The partition's end when this instance was assigned it: it reads from there or later. */
  assigned(partition: number, end: bigint): void {
    if (!this.start.has(partition)) this.floor.set(partition, end);
  }

  /** A batch of `partition` was read from `first` up to `next` (exclusive), whatever it published. */
  read(partition: number, first: bigint, next: bigint): void {
    if (!this.start.has(partition)) this.start.set(partition, first);
    this.next.set(partition, next);
  }

  /** The cursor of an event at `offset` of `partition`: everything read so far, this event included. */
  cursor(partition: number, offset: bigint): string {
    const positions = new Map(this.next);
    positions.set(partition, offset + 1n);
    return formatCursor(positions);
  }

  append(partition: number, offset: bigint, event: T): void {
    const now = this.clock();
    this.events.push({ partition, offset, at: now, event });
    while (
      this.events.length > this.maxEvents ||
      (this.events.length > 0 && now - this.events[0]!.at > this.windowMs)
    ) {
      const gone = this.events.shift()!;
      this.evicted.set(gone.partition, gone.offset + 1n);
    }
  }

  resume(after: ReadonlyMap<number, bigint>): Resumption<T> | ResumeNotCoveredError {
    for (const [p, o] of after) {
      const problem = this.uncovered(p, o);
      if (problem) return problem;
    }
    // Live events start after what is replayed (per partition), so nothing is sent twice.
    const from = new Map(after);
    const replay: T[] = [];
    for (const e of this.events) {
      const o = from.get(e.partition);
      if (o === undefined || e.offset < o) continue;
      replay.push(e.event);
      from.set(e.partition, e.offset + 1n);
    }
    // A partition with only a floor (no batch yet) is checked again once its first batch says where exactly.
    const checked = new Set<number>([...after.keys()].filter((p) => this.start.has(p)));
    return {
      replay,
      accepts: (partition, offset) => {
        const o = after.get(partition);
        if (o === undefined) return true;
        // This instance had read nothing of the partition when the client resumed: check it now.
        if (!checked.has(partition)) {
          checked.add(partition);
          const problem = this.uncovered(partition, o);
          if (problem) return problem;
        }
        return offset >= from.get(partition)!;
      },
    };
  }

  private uncovered(partition: number, offset: bigint): ResumeNotCoveredError | undefined {
    const start = this.start.get(partition) ?? this.floor.get(partition);
    if (start !== undefined && offset < start)
      return new ResumeNotCoveredError(
        `cannot resume: partition ${partition} from offset ${offset}, but this instance reads it from ${start}; reconnect to another instance or read the history through the query API`,
      );
    const evicted = this.evicted.get(partition);
    if (evicted !== undefined && offset < evicted)
      return new ResumeNotCoveredError(
        `cannot resume: partition ${partition} from offset ${offset} has left the replay buffer (kept from ${evicted}); read the history through the query API`,
      );
    return undefined;
  }
}
