import type { ClickHouseStore } from '../clickhouse-store.js';

/** A materialized view of a raw metrics table: its SELECT and the rollup table it writes to. */
export interface RollupView {
  name: string;
  target: string;
  select: string;
}

/**
 * No longer used here (builds go by parts, not device ranges); still exported by libs/clickhouse/src/index.ts,
 * whose owner was asked to drop it (/tmp/coord/s6/HR2.md).
 */
export interface DeviceRange {
  from?: string;
  to?: string;
}

/** An active part of a table and its rows. */
export interface TablePart {
  name: string;
  rows: number;
}

/** Bucket functions whose buckets are whole multiples of a minute: a rollup with one can merge 1m states. */
const MINUTE_MULTIPLE_BUCKETS = new Set([
  'toStartOfFiveMinutes',
  'toStartOfTenMinutes',
  'toStartOfFifteenMinutes',
  'toStartOfHour',
]);
const BUCKET = /toStartOf(\w+)\(ts\) AS ts/;

/**
 * The SQL of a bulk build of a metrics version: raw rows loaded into a staging table with no views attached,
 * each rollup built once per series and bucket from sets of its parts into a staging table of the rollup,
 * then every staging table's parts moved into the version's tables as whole parts. Materialized views
 * aggregate each insert block on its own (one rollup row per series per block, ~5 us/row and view); building
 * a rollup from many samples of a series at once costs ~1 us/row (README, "Performance (backbone)",
 * `[rollups]`). Works from the views' own definitions (`system.tables`), so a version's rollups hold exactly
 * what its views would have written. Tables are physical names.
 */
export class MetricsRollupBuildRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Where a bulk load of `table` puts its rows. The raw table's is the durable mark of a load under way. */
  static staging(table: string): string {
    return `${table}_bulk`;
  }

  /** The materialized views that read from `raw`. */
  async views(raw: string): Promise<RollupView[]> {
    const db = this.store.database;
    const rows = await this.store.query<{ name: string; as_select: string; create_table_query: string }>(
      `SELECT name, as_select, create_table_query FROM system.tables
       WHERE database = {db:String} AND engine = 'MaterializedView' ORDER BY name`,
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

  /** The active parts of a table, oldest first. */
  async parts(table: string): Promise<TablePart[]> {
    const rows = await this.store.query<{ name: string; rows: string }>(
      `SELECT name, rows FROM system.parts
       WHERE database = {db:String} AND table = {table:String} AND active
       ORDER BY min_block_number, name`,
      { db: this.store.database, table },
    );
    return rows.map((r) => ({ name: r.name, rows: Number(r.rows) }));
  }

  /**
   * A table like `table` (columns, engine, partitioning, deduplication window) with nothing reading from it,
   * whose parts are not merged: a bulk build names the parts it has built, and a merge would fold built and
   * unbuilt rows into a part of a new name. (Stopping merges lasts for the process; a build after a restart
   * starts over, see BulkLoadService.)
   */
  async createStaging(table: string): Promise<string> {
    const db = this.store.database;
    const staging = MetricsRollupBuildRepository.staging(table);
    await this.store.command(`CREATE TABLE IF NOT EXISTS ${db}.${staging} AS ${db}.${table}`);
    await this.store.command(`SYSTEM STOP MERGES ${db}.${staging}`);
    // A merge that began before the stop may still be finishing: wait for it, so part names hold from now.
    for (let i = 0; i < 600; i++) {
      const [row] = await this.store.query<{ n: string }>(
        `SELECT count() AS n FROM system.merges WHERE database = {db:String} AND table = {staging:String}`,
        { db, staging },
      );
      if (Number(row?.n ?? 0) === 0) return staging;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`merges of ${staging} did not stop`);
  }

  /**
   * SYNC: its parts go now, not from a background task minutes later (an Atomic database's delayed drop),
   * so no drop of it is pending when the embedded engine shuts down.
   */
  async dropStaging(table: string): Promise<void> {
    await this.store.command(
      `DROP TABLE IF EXISTS ${this.store.database}.${MetricsRollupBuildRepository.staging(table)} SYNC`,
    );
  }

  async truncate(tables: string[]): Promise<void> {
    for (const table of tables) await this.store.command(`TRUNCATE TABLE ${this.store.database}.${table}`);
  }

  /**
   * The view's rollup of some parts of a staging table of the raw rows, inserted into `into`. Never
   * deduplicated: the embedded engine keeps the last insert's token for the session, and a rebuild after a
   * crash inserts the same blocks again into the emptied table; the query's own settings override both.
   * Not merged on insert either: GROUP BY already made each key unique in the parts, and merging the states
   * again while writing cost ~30 % of the build (8.1 against 5.5 us per rollup row, 500k rows, chdb 26.7).
   */
  async buildRollup(view: RollupView, raw: string, staging: string, parts: string[], into: string) {
    const db = this.store.database;
    const rows = `(SELECT * FROM ${db}.${staging} WHERE _part IN {parts:Array(String)}) AS ${raw}`;
    await this.insertSelect(into, view.select.replace(fromClause(db, raw), `FROM ${rows}`), parts);
  }

  /**
   * The SELECT that builds `view`'s rollup from the states of `base`'s (a coarser bucket from 1-minute
   * states: `-MergeState` of each state column), or undefined when that would not give what the view gives:
   * both views must be the same SELECT over the same rows but for the bucket, base's bucket the minute and
   * view's a whole multiple of it, and both rollup tables the same columns. Count, min, max and sum then come
   * out as from the raw rows (a sum up to the order of float additions); a t-digest is the merge of the
   * minutes' digests, the same operation the rollup table's own merges apply to the views' per-block states.
   * `{from}` in the result stands for the rows of the base rollup to read.
   */
  async derivedSelect(view: RollupView, base: RollupView): Promise<string | undefined> {
    const bucket = BUCKET.exec(view.select)?.[1];
    if (BUCKET.exec(base.select)?.[1] !== 'Minute' || !MINUTE_MULTIPLE_BUCKETS.has(`toStartOf${bucket}`))
      return undefined;
    if (view.select.replace(BUCKET, '') !== base.select.replace(BUCKET, '')) return undefined;
    const [columns, baseColumns] = await Promise.all([this.columns(view.target), this.columns(base.target)]);
    if (JSON.stringify(columns) !== JSON.stringify(baseColumns)) return undefined;
    const keys: string[] = [];
    const select: string[] = [];
    for (const c of columns) {
      if (c.name === 'ts') {
        select.push(`toStartOf${bucket}(ts) AS ts`);
        keys.push('ts');
        continue;
      }
      const state = /^AggregateFunction\((\w+)(\([^)]*\))?,/.exec(c.type);
      if (state) select.push(`${state[1]}MergeState${state[2] ?? ''}(${c.name}) AS ${c.name}`);
      else if (/^(Simple)?AggregateFunction/.test(c.type)) return undefined;
      else {
        select.push(c.name);
        keys.push(c.name);
      }
    }
    return `SELECT ${select.join(', ')} FROM {from} GROUP BY ${keys.join(', ')}`;
  }

  /** A derived rollup (derivedSelect) of some parts of the base rollup's staging table, inserted into `into`. */
  async buildDerived(select: string, baseStaging: string, parts: string[], into: string): Promise<void> {
    const from = `(SELECT * FROM ${this.store.database}.${baseStaging} WHERE _part IN {parts:Array(String)})`;
    await this.insertSelect(into, select.replace('{from}', from), parts);
  }

  /**
   * Moves a staging table's rows into `table` as whole parts (ATTACH PARTITION ... FROM copies parts by hard
   * link and triggers no view): no row is inserted, so no rollup sees them twice.
   */
  async attach(table: string, staging: string): Promise<void> {
    const db = this.store.database;
    const partitions = await this.store.query<{ id: string }>(
      `SELECT DISTINCT partition_id AS id FROM system.parts
       WHERE database = {db:String} AND table = {staging:String} AND active ORDER BY id`,
      { db, staging },
    );
    for (const p of partitions) {
      if (!/^[\w-]+$/.test(p.id)) throw new Error(`unexpected partition id ${p.id} of ${staging}`);
      await this.store.command(
        `ALTER TABLE ${db}.${table} ATTACH PARTITION ID '${p.id}' FROM ${db}.${staging}`,
      );
    }
  }

  private async columns(table: string): Promise<Array<{ name: string; type: string }>> {
    return this.store.query<{ name: string; type: string }>(
      `SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}
       ORDER BY position`,
      { db: this.store.database, table },
    );
  }

  private async insertSelect(into: string, select: string, parts: string[]): Promise<void> {
    await this.store.client.command({
      query:
        `INSERT INTO ${this.store.database}.${into} ` +
        `SETTINGS insert_deduplicate = 0, insert_deduplication_token = '', optimize_on_insert = 0 ${select}`,
      query_params: { parts },
    });
  }
}

/** `FROM db.raw` as a whole name (not `db.raw_bulk`). */
function fromClause(db: string, raw: string): RegExp {
  return new RegExp(`FROM ${db}\\.${raw}(?![\\w])`);
}
