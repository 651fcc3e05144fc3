import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';

export interface SinkBatch {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
  /** The flush cycle the range was inserted in: its deduplication token. Empty for a range alone. */
  cycle?: string;
}

const sinkBatchColumns = columnMap<SinkBatch & { group: string }>({
  consumer_group: (b) => b.group,
  topic: (b) => b.topic,
  partition: (b) => b.partition,
  first_offset: (b) => b.firstOffset,
  last_offset: (b) => b.lastOffset,
  records: (b) => b.records,
  cycle: (b) => b.cycle ?? '',
});

interface Row {
  topic: string;
  partition: number;
  first: string;
  last: string;
  records: number;
  cycle: string;
}

const toBatch = (r: Row): SinkBatch => ({
  topic: r.topic,
  partition: Number(r.partition),
  firstOffset: String(r.first),
  lastOffset: String(r.last),
  records: Number(r.records),
  cycle: r.cycle,
});

/** The sink's write-ahead log of offset ranges, read back after a crash to repeat them exactly. */
export class SinkBatchesRepository {
  readonly table = 'sink_batches';

  constructor(private readonly store: ClickHouseStore) {}

  /**
   * Writes the ranges of one flush cycle ahead of its insert, as one block (all or none), deduplicated by
   * `token` (default: derived from the cycle, or from the first range of a range alone).
   */
  record(group: string, batches: SinkBatch[], token?: string): Promise<void> {
    if (batches.length === 0) return Promise.resolve();
    const [first] = batches;
    token ??= `intent-${group}-${first!.cycle || `${first!.topic}-${first!.partition}-${first!.firstOffset}`}`;
    return this.store.insert(
      this.table,
      sinkBatchColumns,
      batches.map((b) => ({ group, ...b })),
      token,
    );
  }

  /**
   * The newest range per partition of the group's topics (the only one that may not be committed), and every
   * other range of the cycles those belong to.
   */
  async latest(group: string): Promise<SinkBatch[]> {
    const newest = (
      await this.store.query<Row>(
        // One whole row per partition (separate argMax calls could mix two rows sharing a first offset).
        `SELECT topic, partition, newest.1 AS first, newest.2 AS last, newest.3 AS records, newest.4 AS cycle
         FROM (
           SELECT topic, partition,
                  argMax((first_offset, last_offset, records, cycle), (first_offset, created_at)) AS newest
           FROM ${this.store.table(this.table)}
           WHERE consumer_group = {group:String}
           GROUP BY topic, partition
         )`,
        { group },
      )
    ).map(toBatch);
    const cycles = [...new Set(newest.map((b) => b.cycle).filter((c) => c))];
    if (cycles.length === 0) return newest;
    const members = (
      await this.store.query<Row>(
        `SELECT topic, partition, first_offset AS first, last_offset AS last, records, cycle
         FROM ${this.store.table(this.table)}
         WHERE consumer_group = {group:String} AND cycle IN {cycles:Array(String)}`,
        { group, cycles },
      )
    ).map(toBatch);
    const seen = new Set(newest.map((b) => `${b.topic}:${b.partition}:${b.firstOffset}`));
    return [...newest, ...members.filter((b) => !seen.has(`${b.topic}:${b.partition}:${b.firstOffset}`))];
  }
}
