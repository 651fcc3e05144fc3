import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';

export interface SinkBatch {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
}

const sinkBatchColumns = columnMap<SinkBatch & { group: string }>({
  consumer_group: (b) => b.group,
  topic: (b) => b.topic,
  partition: (b) => b.partition,
  first_offset: (b) => b.firstOffset,
  last_offset: (b) => b.lastOffset,
  records: (b) => b.records,
});

/** The sink's write-ahead log of offset ranges, read back after a crash to repeat them exactly. */
export class SinkBatchesRepository {
  readonly table = 'sink_batches';

  constructor(private readonly store: ClickHouseStore) {}

  record(group: string, batch: SinkBatch): Promise<void> {
    const token = `intent-${group}-${batch.topic}-${batch.partition}-${batch.firstOffset}`;
    return this.store.insert(this.table, sinkBatchColumns, [{ group, ...batch }], token);
  }

  /** The newest range per partition of the group's topics: the only one that may not be committed. */
  async latest(group: string): Promise<SinkBatch[]> {
    const rows = await this.store.query<{
      topic: string;
      partition: number;
      first: string;
      last: string;
      records: number;
    }>(
      `SELECT topic, partition, max(first_offset) AS first, argMax(last_offset, first_offset) AS last,
              argMax(records, first_offset) AS records
       FROM ${this.store.table(this.table)}
       WHERE consumer_group = {group:String}
       GROUP BY topic, partition`,
      { group },
    );
    return rows.map((r) => ({
      topic: r.topic,
      partition: Number(r.partition),
      firstOffset: String(r.first),
      lastOffset: String(r.last),
      records: Number(r.records),
    }));
  }
}
