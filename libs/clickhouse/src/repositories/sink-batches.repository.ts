import type { ClickHouseStore } from '../clickhouse-store.js';

export interface SinkBatch {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
}

/** The sink's write-ahead log of offset ranges, read back after a crash to repeat them exactly. */
export class SinkBatchesRepository {
  readonly table = 'sink_batches';

  constructor(private readonly store: ClickHouseStore) {}

  record(group: string, batch: SinkBatch): Promise<void> {
    return this.store.insert(
      this.table,
      [
        {
          consumer_group: group,
          topic: batch.topic,
          partition: batch.partition,
          first_offset: batch.firstOffset,
          last_offset: batch.lastOffset,
          records: batch.records,
        },
      ],
      `intent-${group}-${batch.topic}-${batch.partition}-${batch.firstOffset}`,
    );
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
