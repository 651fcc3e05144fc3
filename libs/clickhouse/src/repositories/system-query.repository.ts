import type { ClickHouseStore } from '../clickhouse-store.js';

export interface TableSizeRow {
  table: string;
  rows: string;
  bytes_on_disk: string;
  parts: string;
}

export class SystemQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Active parts only: inactive ones are merged away and about to be deleted. */
  tableSizes(): Promise<TableSizeRow[]> {
    return this.store.query<TableSizeRow>(
      `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes_on_disk, count() AS parts
       FROM system.parts
       WHERE database = {database:String} AND active
       GROUP BY table ORDER BY table`,
      { database: this.store.database },
    );
  }
}
