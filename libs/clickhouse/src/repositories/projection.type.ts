/** A table that is a projection of one event stream: rows are derived from records, nothing else. */
export interface Projection<T> {
  readonly table: string;
  /** Inserts the records as one deduplicated block; see ClickHouseStore.insert. */
  insert(records: readonly T[], token: string): Promise<void>;
}
