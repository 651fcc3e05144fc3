/** How one table's columns are read off a record: declared once per table, next to its repository. */
export interface ColumnMap<T> {
  readonly names: readonly string[];
  row(record: T): unknown[];
}

export function columnMap<T>(getters: Record<string, (record: T) => unknown>): ColumnMap<T> {
  const names = Object.keys(getters);
  const read = Object.values(getters);
  return {
    names,
    row: (record) => {
      const values = new Array<unknown>(read.length);
      for (let i = 0; i < read.length; i++) values[i] = read[i]!(record);
      return values;
    },
  };
}
