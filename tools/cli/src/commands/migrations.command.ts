import { parseArgs } from 'node:util';
import { clickHouseConfigSection, migrationsDir, readMigrations } from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type { Command } from './command.type.js';

/**
 * Prints the SQL the migrations run, for one node (the default) or rendered for a cluster, without touching
 * a database: review it, diff it between releases, or hand it to whoever owns the ClickHouse cluster.
 */
export const migrationsCommand: Command = {
  name: 'migrations',
  summary: 'Print the ClickHouse migrations as SQL, for one node or rendered for a cluster (--cluster).',
  usage: 'print [--cluster <name>] [--database sentio] [--dir libs/clickhouse/migrations]',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cluster: { type: 'string' },
        database: { type: 'string' },
        dir: { type: 'string', default: migrationsDir },
      },
    });
    if (positionals[0] !== 'print' || positionals.length > 1) {
      process.stderr.write(`usage: sentio migrations ${this.usage}\n`);
      return 2;
    }
    // Flags win over CLICKHOUSE_DATABASE / CLICKHOUSE_CLUSTER; both are validated by the config section.
    const env = { ...process.env };
    if (values.database !== undefined) env['CLICKHOUSE_DATABASE'] = values.database;
    if (values.cluster !== undefined) env['CLICKHOUSE_CLUSTER'] = values.cluster;
    const { database, cluster } = loadConfig([clickHouseConfigSection], { env }).clickhouse;
    const mode = cluster
      ? `cluster '${cluster}' (ON CLUSTER, Replicated*MergeTree, Distributed)`
      : 'one node';
    const out = [`-- Sentio ClickHouse migrations for ${mode}, database ${database}`];
    for (const migration of readMigrations(database, values.dir, cluster)) {
      out.push(
        `\n-- ${String(migration.version).padStart(3, '0')}_${migration.name} (sha256 ${migration.checksum})`,
      );
      for (const statement of migration.statements) out.push(`${statement};\n`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
};
