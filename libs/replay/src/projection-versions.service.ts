import { Inject, Injectable } from '@nestjs/common';
import {
  ClickHouseStore,
  physicalName,
  ProjectionVersions,
  ReplaysRepository,
  type ProjectionFamily,
  type VersionInfo,
} from '@sentio/clickhouse';
import { LOGGER, type Logger } from '@sentio/observability';
import { BulkLoadService } from './bulk-load.service.js';

export interface VersionStatus extends VersionInfo {
  live: boolean;
  previous: boolean;
  rows: Record<string, number>;
}

/** The write-ahead group of a version's replays: its dedup tokens must be the same after a restart. */
export function writeAheadGroup(family: ProjectionFamily, version: number): string {
  return `replay-${family}-v${version}`;
}

/**
 * Creating, listing and dropping versions of a table family. A version is either created by a migration
 * (a changed definition: new rollup, column, TTL or codec) or cloned here from the live one (a plain
 * rebuild): its tables and materialized views are the live version's, renamed to `<name>_v<N>`.
 */
@Injectable()
export class ProjectionVersionsService {
  private readonly logger: Logger;

  constructor(
    @Inject(ClickHouseStore) private readonly store: ClickHouseStore,
    @Inject(ProjectionVersions) readonly versions: ProjectionVersions,
    @Inject(ReplaysRepository) private readonly replays: ReplaysRepository,
    @Inject(BulkLoadService) private readonly bulk: BulkLoadService,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'replay' });
  }

  /**
   * The version a rebuild of the family fills: the newest one above the live version that still exists
   * (created by a migration, or left by an earlier replay or a rollback: it is caught up from its frontier),
   * else a new clone of the live version.
   */
  async target(family: ProjectionFamily): Promise<{ version: number; created: boolean }> {
    await this.versions.refresh();
    const live = this.versions.liveVersion(family);
    const candidates = this.versions.list(family).filter((v) => v.version > live && !v.dropped);
    const newest = candidates.at(-1);
    if (newest) return { version: newest.version, created: false };
    return { version: await this.clone(family), created: true };
  }

  /**
   * Adds to a version's tables the columns version 1 has and they lack. Migrations change the family's
   * version-1 tables (`ALTER TABLE alerts ADD COLUMN ...`, migration 015); a version cloned or created
   * before such a migration misses those columns, and the repositories write the current column set, so a
   * replay into it (or a swap to it) would fail or serve rows without them. Columns are only added, with
   * their type and default, never dropped or changed: a version that differs on purpose keeps its changes.
   */
  async alignColumns(family: ProjectionFamily, version: number): Promise<string[]> {
    if (version === 1) return [];
    const info = this.versions.version(family, version);
    if (!info) throw new Error(`${family} has no registered version ${version}`);
    const db = this.store.database;
    const physical = info.tables.map((t) => physicalName(t, version));
    const columns = await this.store.query<{
      table: string;
      name: string;
      type: string;
      default_kind: string;
      default_expression: string;
      position: string;
    }>(
      `SELECT table, name, type, default_kind, default_expression, position FROM system.columns
       WHERE database = {db:String} AND table IN {tables:Array(String)} ORDER BY table, position`,
      { db, tables: [...info.tables, ...physical] },
    );
    const added: string[] = [];
    for (const table of info.tables) {
      const target = physicalName(table, version);
      const have = new Set(columns.filter((c) => c.table === target).map((c) => c.name));
      // The table is new in this version (a new rollup) or gone from version 1: nothing to align with.
      if (have.size === 0) continue;
      const base = columns.filter((c) => c.table === table);
      let after: string | undefined;
      for (const c of base) {
        if (!have.has(c.name)) {
          const def = c.default_kind ? ` ${c.default_kind} ${c.default_expression}` : '';
          await this.store.command(
            `ALTER TABLE ${db}.${target} ADD COLUMN IF NOT EXISTS \`${c.name}\` ${c.type}${def}` +
              (after ? ` AFTER \`${after}\`` : ' FIRST'),
          );
          added.push(`${target}.${c.name}`);
        }
        after = c.name;
      }
    }
    if (added.length > 0)
      this.logger.info(
        { family, version, added },
        'projection version given the columns version 1 gained since',
      );
    return added;
  }

  /** Creates version max+1 of the family with the live version's tables and views, empty. */
  async clone(family: ProjectionFamily): Promise<number> {
    const live = this.versions.liveVersion(family);
    const info = this.versions.version(family, live);
    if (!info) throw new Error(`${family} has no registered version ${live}`);
    const version = Math.max(...this.versions.list(family).map((v) => v.version)) + 1;
    const db = this.store.database;
    for (const table of info.tables) {
      await this.store.command(
        `CREATE TABLE IF NOT EXISTS ${db}.${physicalName(table, version)} AS ${db}.${physicalName(table, live)}`,
      );
    }
    for (const view of await this.views(info.tables.map((t) => physicalName(t, live)))) {
      const base = live === 1 ? view.name : view.name.replace(new RegExp(`_v${live}$`), '');
      let sql = view.create.replace(`${db}.${view.name}`, `${db}.${physicalName(base, version)}`);
      // Longest names first, whole names only: metrics must not rewrite metrics_1m.
      for (const table of [...info.tables].sort((a, b) => b.length - a.length)) {
        sql = sql.replace(
          new RegExp(`\\b${db}\\.${physicalName(table, live)}\\b`, 'g'),
          `${db}.${physicalName(table, version)}`,
        );
      }
      await this.store.command(
        sql.replace(/^CREATE MATERIALIZED VIEW /, 'CREATE MATERIALIZED VIEW IF NOT EXISTS '),
      );
    }
    await this.versions.register({
      family,
      version,
      tables: info.tables,
      description: `rebuild of version ${live}`,
    });
    this.logger.info({ family, version, from: live }, 'projection version cloned from the live one');
    return version;
  }

  async status(family?: ProjectionFamily): Promise<VersionStatus[]> {
    await this.versions.refresh();
    const pointers = await this.versions.pointers();
    const sizes = new Map(
      (
        await this.store.query<{ table: string; rows: string }>(
          `SELECT table, sum(rows) AS rows FROM system.parts
           WHERE database = {db:String} AND active GROUP BY table`,
          { db: this.store.database },
        )
      ).map((r) => [r.table, Number(r.rows)]),
    );
    return this.versions.list(family).map((v) => ({
      ...v,
      live: this.versions.liveVersion(v.family) === v.version,
      previous: pointers.get(v.family)?.previous === v.version,
      rows: Object.fromEntries(v.tables.map((t) => [t, sizes.get(physicalName(t, v.version)) ?? 0])),
    }));
  }

  /**
   * Empties a version that is neither live nor the previous one (its tables, frontier and write-ahead log),
   * so a rebuild starts it from scratch: a full rebuild never continues from what a partial build left.
   */
  async reset(family: ProjectionFamily, version: number): Promise<void> {
    const pointer = (await this.versions.pointers()).get(family);
    const live = pointer?.live ?? this.versions.liveVersion(family);
    if (version === live || version === pointer?.previous)
      throw new Error(`version ${version} of ${family} is ${version === live ? 'live' : 'the previous one'}`);
    const info = this.versions.version(family, version);
    if (!info || info.dropped) throw new Error(`${family} has no version ${version}`);
    const db = this.store.database;
    await this.bulk.discard(family, version);
    for (const table of info.tables)
      await this.store.command(`TRUNCATE TABLE IF EXISTS ${db}.${physicalName(table, version)}`);
    await this.replays.forget(family, version, writeAheadGroup(family, version));
    this.logger.info({ family, version }, 'projection version emptied for a rebuild from scratch');
  }

  /** Drops a version's tables and views; never the live one. */
  async drop(family: ProjectionFamily, version: number): Promise<void> {
    await this.versions.refresh();
    const info = this.versions.version(family, version);
    if (!info || info.dropped) throw new Error(`${family} has no version ${version}`);
    if (this.versions.liveVersion(family) === version)
      throw new Error(`version ${version} of ${family} is live: swap another in (or roll back) first`);
    const db = this.store.database;
    const tables = info.tables.map((t) => physicalName(t, version));
    for (const view of await this.views(tables))
      await this.store.command(`DROP VIEW IF EXISTS ${db}.${view.name}`);
    for (const table of tables) await this.store.command(`DROP TABLE IF EXISTS ${db}.${table}`);
    await this.bulk.discard(family, version);
    await this.replays.forget(family, version, writeAheadGroup(family, version));
    await this.versions.register(info, true);
    this.logger.info({ family, version, tables }, 'projection version dropped');
  }

  /** Materialized views that read from or write to any of these physical tables. */
  private async views(tables: string[]): Promise<Array<{ name: string; create: string }>> {
    const db = this.store.database;
    const rows = await this.store.query<{ name: string; create_table_query: string }>(
      `SELECT name, create_table_query FROM system.tables
       WHERE database = {db:String} AND engine = 'MaterializedView'`,
      { db },
    );
    return rows
      .filter((r) => tables.some((t) => new RegExp(`\\b${db}\\.${t}\\b(?!_)`).test(r.create_table_query)))
      .map((r) => ({ name: r.name, create: r.create_table_query }));
  }
}
