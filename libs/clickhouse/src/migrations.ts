import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@sentio/observability';
import type { ClickHouseStore } from './clickhouse-store.js';
import {
  newClusterSchemaState,
  renderClusterMigrationsTable,
  renderClusterStatements,
} from './cluster-schema.util.js';
import { columnMap } from './column-map.util.js';

const migrationColumns = columnMap<Migration>({
  version: (m) => m.version,
  name: (m) => m.name,
  checksum: (m) => m.checksum,
});

export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '../migrations');

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

/**
 * The numbered migrations of `dir`, in order, for `database`; with `cluster`, rendered for a sharded and
 * replicated cluster (cluster-schema.util.ts). The checksum is the file's, whatever the mode.
 */
export function readMigrations(database: string, dir = migrationsDir, cluster?: string): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => /^(\d+)_([\w-]+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const text = readFileSync(join(dir, m[0]), 'utf8');
      return {
        version: Number(m[1]),
        name: m[2]!,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: splitStatements(text.replaceAll('${database}', database)),
      };
    })
    .sort((a, b) => a.version - b.version);
  if (!cluster) return migrations;
  const state = newClusterSchemaState();
  return migrations.map((m) => ({
    ...m,
    statements: renderClusterStatements(m.statements, { cluster, database }, state),
  }));
}

/** Statements end with `;` at the end of a line; comments are dropped. Our migrations keep to that. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Applies the numbered migrations not yet recorded in `schema_migrations`, in order. An applied migration
 * whose file changed stops start-up: edit history with a new migration, not by rewriting an old one.
 */
export async function migrate(
  store: ClickHouseStore,
  logger: Logger,
  dir = migrationsDir,
  options: { cluster?: string } = {},
): Promise<number> {
  const { cluster } = options;
  const database = store.database;
  if (cluster) {
    await store.command(`CREATE DATABASE IF NOT EXISTS ${database} ON CLUSTER '${cluster}'`);
    await store.command(renderClusterMigrationsTable({ cluster, database }));
  } else {
    await store.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
    await store.command(
      `CREATE TABLE IF NOT EXISTS ${store.table('schema_migrations')}
     (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = MergeTree ORDER BY version`,
    );
  }
  const applied = new Map(
    (
      await store.query<{ version: number; checksum: string }>(
        `SELECT version, checksum FROM ${store.table('schema_migrations')}`,
      )
    ).map((r) => [Number(r.version), r.checksum]),
  );
  let count = 0;
  for (const migration of readMigrations(database, dir, cluster)) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum) {
        throw new Error(`migration ${migration.version}_${migration.name} was changed after it was applied`);
      }
      continue;
    }
    for (const statement of migration.statements) await store.command(statement);
    await store.insert('schema_migrations', migrationColumns, [migration], `migration-${migration.version}`);
    logger.info({ version: migration.version, name: migration.name }, 'clickhouse: migration applied');
    count++;
  }
  return count;
}
