import type { ClickHouseStore } from '../clickhouse-store.js';

/** A materialized view of a raw metrics table: its SELECT and the rollup table it writes to. */
export interface RollupView {
  name: string;
  target: string;
  select: string;
}

/** A range of devices (`from` inclusive, `to` exclusive; open ends undefined) holding about a chunk's rows. */
export interface DeviceRange {
  from?: string;
  to?: string;
}

/**
 * The SQL of a bulk build of a metrics version: raw rows loaded into a staging table with no views attached,
 * then each rollup built once per series and bucket from them, then the raw rows moved into the version's raw
 * table as whole parts. Materialized views aggregate each insert block on its own (one rollup row per series
 * per block, ~5 us/row and view); building a rollup from all the rows at once costs ~1 us/row (README,
 * "Performance (backbone)", `[rollups]`). Works from the views' own definitions (`system.tables`), so a
 * version's rollups are built exactly as its views would have written them. Tables are physical names.
 */
export class MetricsRollupBuildRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Where a bulk load of `raw` puts its rows. Its existence is the durable mark of a load under way. */
  static staging(raw: string): string {
    return `${raw}_bulk`;
  }

  /** The materialized views that read from `raw`. */
  async views(raw: string): Promise<RollupView[]> {
    const db = this.store.database;
    const rows = await this.store.query<{ name: string; as_select: string; create_table_query: string }>(
      `SELECT name, as_select, create_table_query FROM system.tables
       WHERE database = {db:String} AND engine = 'MaterializedView'`,
      { db },
    );
    const source = fromClause(db, raw);
    return rows
      .filter((r) => source.test(r.as_select))
      .map((r) => {
        const target = new RegExp(`\\sTO ${db}\\.(\\w+)\\s`).exec(r.create_table_query)?.[1];
        if (!target) throw new Error(`materialized view ${r.name} writes to no table (TO is required)`);
        return { name: r.name, target, select: r.as_select };
      });
  }

  async exists(table: string): Promise<boolean> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {table:String}`,
      { db: this.store.database, table },
    );
    return Number(row?.n ?? 0) > 0;
  }

  /** Rows in the active parts of these tables. */
  async rows(tables: string[]): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT sum(rows) AS n FROM system.parts
       WHERE database = {db:String} AND table IN {tables:Array(String)} AND active`,
      { db: this.store.database, tables },
    );
    return Number(row?.n ?? 0);
  }

  /** A table like `raw` (columns, engine, partitioning, deduplication window) with nothing reading from it. */
  async createStaging(raw: string): Promise<string> {
    const db = this.store.database;
    const staging = MetricsRollupBuildRepository.staging(raw);
    await this.store.command(`CREATE TABLE IF NOT EXISTS ${db}.${staging} AS ${db}.${raw}`);
    return staging;
  }

  /**
   * SYNC: its parts go now, not from a background task minutes later (an Atomic database's delayed drop),
   * so no drop of it is pending when the embedded engine shuts down.
   */
  async dropStaging(raw: string): Promise<void> {
    await this.store.command(
      `DROP TABLE IF EXISTS ${this.store.database}.${MetricsRollupBuildRepository.staging(raw)} SYNC`,
    );
  }

  async truncate(tables: string[]): Promise<void> {
    for (const table of tables) await this.store.command(`TRUNCATE TABLE ${this.store.database}.${table}`);
  }

  /** Device ranges of the staging table, each about `rowsPerChunk` rows (a device's rows stay in one). */
  async deviceRanges(staging: string, rowsPerChunk: number): Promise<DeviceRange[]> {
    const devices = await this.store.query<{ device_id: string; n: string }>(
      `SELECT device_id, count() AS n FROM ${this.store.database}.${staging}
       GROUP BY device_id ORDER BY device_id`,
    );
    const ranges: DeviceRange[] = [];
    let from: string | undefined;
    let rows = 0;
    for (const d of devices) {
      if (rows >= rowsPerChunk) {
        ranges.push({ ...(from !== undefined && { from }), to: d.device_id });
        from = d.device_id;
        rows = 0;
      }
      rows += Number(d.n);
    }
    ranges.push(from !== undefined ? { from } : {});
    return ranges;
  }

  /**
   * The view's rollup of one device range of the staging table, inserted into its rollup table. Never
   * deduplicated: the embedded engine keeps the last insert's token for the session, and a rebuild after a
   * crash inserts the same blocks again into the emptied table; the query's own settings override both.
   * Not merged on insert either: GROUP BY already made each key unique in the range, and merging the states
   * again while writing cost ~30 % of the build (8.1 against 5.5 us per rollup row, 500k rows, chdb 26.7).
   */
  async buildRollup(view: RollupView, raw: string, staging: string, range: DeviceRange): Promise<void> {
    const db = this.store.database;
    const where = [
      ...(range.from !== undefined ? ['device_id >= {from:String}'] : []),
      ...(range.to !== undefined ? ['device_id < {to:String}'] : []),
    ];
    const rows = `(SELECT * FROM ${db}.${staging}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}) AS ${raw}`;
    const select = view.select.replace(fromClause(db, raw), `FROM ${rows}`);
    await this.store.client.command({
      query:
        `INSERT INTO ${db}.${view.target} ` +
        `SETTINGS insert_deduplicate = 0, insert_deduplication_token = '', optimize_on_insert = 0 ${select}`,
      query_params: {
        ...(range.from !== undefined && { from: range.from }),
        ...(range.to !== undefined && { to: range.to }),
      },
    });
  }

  /**
   * Moves the staging table's rows into `raw` as whole parts (ATTACH PARTITION ... FROM copies parts by hard
   * link and triggers no view): no row is inserted, so no rollup sees them twice.
   */
  async attachRaw(raw: string, staging: string): Promise<void> {
    const db = this.store.database;
    const partitions = await this.store.query<{ id: string }>(
      `SELECT DISTINCT partition_id AS id FROM system.parts
       WHERE database = {db:String} AND table = {staging:String} AND active ORDER BY id`,
      { db, staging },
    );
    for (const p of partitions) {
      if (!/^[\w-]+$/.test(p.id)) throw new Error(`unexpected partition id ${p.id} of ${staging}`);
      await this.store.command(
        `ALTER TABLE ${db}.${raw} ATTACH PARTITION ID '${p.id}' FROM ${db}.${staging}`,
      );
    }
  }
}

/** `FROM db.raw` as a whole name (not `db.raw_bulk`). */
function fromClause(db: string, raw: string): RegExp {
  return new RegExp(`FROM ${db}\\.${raw}(?![\\w])`);
}
