import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterShardingKeys,
  newClusterSchemaState,
  renderClusterMigrationsTable,
  renderClusterStatements,
} from './cluster-schema.util.js';
import { migrationsDir, readMigrations, splitStatements } from './migrations.js';

const cluster = 'sentio_test';
const database = 'cluster_spec';
const options = { cluster, database };

/** Every migration file in the folder, whoever added it: the renderer must take any of them. */
const rendered = readMigrations(database, migrationsDir, cluster).flatMap((m) => m.statements);
const single = readMigrations(database, migrationsDir).flatMap((m) => m.statements);
const byPrefix = (prefix: string) => rendered.find((s) => s.startsWith(prefix));

describe('cluster mode rendering of the migrations', () => {
  it('leaves the single-node statements exactly as the files say', () => {
    const fromFiles = readMigrations(database).flatMap((m) => m.statements);
    expect(single).toEqual(fromFiles);
    const first = readFileSync(join(migrationsDir, '001_projections.sql'), 'utf8');
    expect(single.slice(0, 3)).toEqual(
      splitStatements(first.replaceAll('${database}', database)).slice(0, 3),
    );
    expect(single.join('\n')).not.toMatch(/ON CLUSTER|Replicated|Distributed/);
  });

  it('runs every DDL statement on the whole cluster', () => {
    for (const statement of rendered) {
      if (/^INSERT /i.test(statement)) continue;
      expect(statement, statement.slice(0, 80)).toContain(`ON CLUSTER '${cluster}'`);
    }
  });

  it('turns every MergeTree-family table into a replicated local table plus a Distributed table of the same name', () => {
    const engines = new Map<string, string>();
    for (const s of single) {
      const created = /^CREATE TABLE IF NOT EXISTS \w+\.(\w+)[\s\S]*?\)\s*ENGINE = (\w*MergeTree)/.exec(s);
      const cloned = /^CREATE TABLE IF NOT EXISTS \w+\.(\w+) AS \w+\.(\w+)$/.exec(s);
      if (created) engines.set(created[1]!, created[2]!);
      if (cloned && engines.has(cloned[2]!)) engines.set(cloned[1]!, engines.get(cloned[2]!)!);
    }
    const tables = [...engines].map(([table, engine]) => [table, table, engine] as const);
    expect(tables.length).toBeGreaterThanOrEqual(10);
    for (const [, table, engine] of tables) {
      const local = byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.${table}_local `);
      expect(local, table).toBeDefined();
      expect(local).toContain(
        `ENGINE = Replicated${engine}('/clickhouse/${cluster}/tables/{shard}/${database}/${table}_local', '{replica}'`,
      );
      expect(local).not.toContain('non_replicated_deduplication_window');
      const distributed = byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.${table} `);
      expect(distributed).toMatch(
        new RegExp(
          `AS ${database}\\.${table}_local\\nENGINE = Distributed\\('${cluster}', ${database}, ${table}_local, cityHash64\\(`,
        ),
      );
    }
  });

  it('keeps engine arguments, the dedup window (now per replica) and the sharding keys', () => {
    expect(byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.devices_local`)).toContain(
      `ReplicatedReplacingMergeTree('/clickhouse/${cluster}/tables/{shard}/${database}/devices_local', '{replica}', updated_at)`,
    );
    expect(byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.metrics_local`)).toContain(
      'SETTINGS replicated_deduplication_window = 10000',
    );
    expect(byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.metrics_1m_local`)).toContain(
      'ENGINE = ReplicatedAggregatingMergeTree(',
    );
    expect(byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.metrics `)).toMatch(/cityHash64\(device_id\)\)$/);
    expect(byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.spans `)).toContain(clusterShardingKeys.spans);
    expect(byPrefix(`CREATE TABLE IF NOT EXISTS ${database}.sink_batches `)).toContain(
      'cityHash64(consumer_group, topic, partition)',
    );
  });

  it('gives a cloned table (a new projection version) its own Keeper path and the source storage', () => {
    const state = newClusterSchemaState();
    const sql = renderClusterStatements(
      [
        `CREATE TABLE IF NOT EXISTS db.t (a UInt32, k String) ENGINE = ReplacingMergeTree(a) ORDER BY k SETTINGS non_replicated_deduplication_window = 5`,
        'CREATE TABLE IF NOT EXISTS db.t_v2 AS db.t',
      ],
      { cluster, database: 'db' },
      state,
    );
    expect(sql.slice(2)).toEqual([
      `CREATE TABLE IF NOT EXISTS db.t_v2_local ON CLUSTER '${cluster}' AS db.t_local\n` +
        `ENGINE = ReplicatedReplacingMergeTree('/clickhouse/${cluster}/tables/{shard}/db/t_v2_local', '{replica}', a) ORDER BY k SETTINGS replicated_deduplication_window = 5`,
      `CREATE TABLE IF NOT EXISTS db.t_v2 ON CLUSTER '${cluster}' AS db.t_v2_local\n` +
        `ENGINE = Distributed('${cluster}', db, t_v2_local, cityHash64(k))`,
    ]);
  });

  it('attaches the rollup views to the shard-local tables', () => {
    const view = byPrefix(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.metrics_1m_mv`)!;
    expect(view).toContain(`ON CLUSTER '${cluster}' TO ${database}.metrics_1m_local AS`);
    expect(view).toContain(`FROM ${database}.metrics_local`);
    expect(view).not.toMatch(new RegExp(`${database}\\.metrics\\b(?!_)`));
  });

  it('renders later migrations against the tables of earlier ones', () => {
    const state = newClusterSchemaState();
    renderClusterStatements(
      [`CREATE TABLE IF NOT EXISTS db.t (a UInt32, k String) ENGINE = MergeTree ORDER BY (k, a)`],
      { cluster, database: 'db' },
      state,
    );
    const later = renderClusterStatements(
      [
        'ALTER TABLE db.t ADD COLUMN IF NOT EXISTS b String, MODIFY COLUMN k LowCardinality(String)',
        'ALTER TABLE db.t MODIFY TTL now() + INTERVAL 1 DAY',
        `CREATE MATERIALIZED VIEW IF NOT EXISTS db.t_mv TO db.u AS SELECT k FROM db.t WHERE k != 't'`,
        'OPTIMIZE TABLE db.t FINAL',
        'INSERT INTO db.t SELECT 1, k FROM db.t',
        'DROP TABLE IF EXISTS db.t',
      ],
      { cluster, database: 'db' },
      state,
    );
    expect(later).toEqual([
      `ALTER TABLE db.t_local ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS b String, MODIFY COLUMN k LowCardinality(String)`,
      `ALTER TABLE db.t ON CLUSTER '${cluster}' ADD COLUMN IF NOT EXISTS b String, MODIFY COLUMN k LowCardinality(String)`,
      `ALTER TABLE db.t_local ON CLUSTER '${cluster}' MODIFY TTL now() + INTERVAL 1 DAY`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS db.t_mv ON CLUSTER '${cluster}' TO db.u AS SELECT k FROM db.t_local WHERE k != 't'`,
      `OPTIMIZE TABLE db.t_local ON CLUSTER '${cluster}' FINAL`,
      'INSERT INTO db.t SELECT 1, k FROM db.t',
      `DROP TABLE IF EXISTS db.t ON CLUSTER '${cluster}' SYNC`,
      `DROP TABLE IF EXISTS db.t_local ON CLUSTER '${cluster}' SYNC`,
    ]);
    expect(state.distributed.has('t')).toBe(false);
  });

  it('refuses what it cannot render instead of running it on one node', () => {
    const render = (sql: string) => renderClusterStatements([sql], options, newClusterSchemaState());
    expect(() => render(`SYSTEM STOP MERGES ${database}.metrics`)).toThrow(/unknown statement kind/);
    expect(() =>
      render(`CREATE MATERIALIZED VIEW ${database}.v ENGINE = MergeTree ORDER BY a AS SELECT 1 AS a`),
    ).toThrow(/needs TO/);
    expect(() => render(`CREATE TABLE ${database}.x (a UInt8) ENGINE = MergeTree ORDER BY tuple()`)).toThrow(
      /clusterShardingKeys/,
    );
    expect(() =>
      renderClusterStatements([], { cluster: "x'; DROP", database }, newClusterSchemaState()),
    ).toThrow(/cluster name/);
  });

  it('keeps plain engines as plain tables on every node', () => {
    const [sql] = renderClusterStatements(
      [`CREATE TABLE IF NOT EXISTS ${database}.queue (a UInt8) ENGINE = Null`],
      options,
      newClusterSchemaState(),
    );
    expect(sql).toBe(
      `CREATE TABLE IF NOT EXISTS ${database}.queue ON CLUSTER '${cluster}' (a UInt8) ENGINE = Null`,
    );
  });
});

/**
 * The rendered SQL on the real engine (chdb, ClickHouse 26.7). What a single process can run of a cluster:
 * every statement, ON CLUSTER and Replicated engines included, goes through ClickHouse's own parser; then the
 * schema runs with the Distributed tables, the views on the local tables and the dedup tokens, over a
 * one-shard cluster whose one replica is this process. Replication itself (Keeper, replicas, ON CLUSTER
 * execution) is what this cannot run: chdb has no Keeper and no distributed DDL worker.
 */
describe('rendered schemas on the embedded engine', () => {
  let session: Session;
  const ts = '2026-11-30 12:00:00.000';

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'sentio-cluster-spec-'));
    const config = join(dir, 'cluster.xml');
    // is_local: the replica is this process's host and tcp_port, so Distributed reads and writes stay in
    // process (prefer_localhost_replica) instead of dialing a server.
    writeFileSync(
      config,
      `<clickhouse><tcp_port>9000</tcp_port><remote_servers><${cluster}><shard><internal_replication>true</internal_replication>` +
        `<replica><host>127.0.0.1</host><port>9000</port></replica></shard></${cluster}></remote_servers></clickhouse>`,
    );
    mkdirSync(join(dir, 'data'));
    session = new Session(join(dir, 'data'), { connectionArgs: [`--config-file=${config}`] });
  });

  afterAll(() => session?.cleanup());

  it('parses every statement of both modes with ClickHouse itself', () => {
    for (const statement of [...single, ...rendered, renderClusterMigrationsTable(options)]) {
      const formatted = session.queryBind('SELECT formatQuery({sql:String})', { sql: statement }, 'TSVRaw');
      expect(formatted.length, statement.slice(0, 80)).toBeGreaterThan(0);
    }
  });

  it('runs the single-node schema', () => {
    for (const statement of readMigrations('single_spec').flatMap((m) => m.statements))
      session.query(statement);
    expect(
      session.query(`SELECT count() FROM system.tables WHERE database = 'single_spec'`, 'TSV').trim(),
    ).toBe(String(single.filter((s) => /^CREATE (TABLE|MATERIALIZED VIEW)/.test(s)).length));
  });

  it('runs the cluster schema: Distributed writes dedup by token, views fill the local rollups, -Merge reads across shards', () => {
    for (const statement of rendered) session.query(withoutReplication(statement));
    const insert = (token: string) =>
      session.query(
        `INSERT INTO ${database}.metrics (device_id, metric, ts, value, unit, quality, labels, source, event_id)
         SETTINGS insert_deduplication_token = '${token}', distributed_foreground_insert = 1,
                  deduplicate_blocks_in_dependent_materialized_views = 1
         SELECT 'd' || toString(number % 50), 'temp', toDateTime64('${ts}', 3, 'UTC') + number, number, 'C',
                'GOOD', map(), 'spec', 'e' || toString(number)
         FROM numbers(1000)`,
      );
    insert('g:telemetry:0:0-999');
    insert('g:telemetry:0:0-999'); // a retry after a crash: the same block under the same token
    insert('g:telemetry:0:1000-1999'); // a new range: same rows, another token, stored again
    const count = (sql: string) => Number(session.query(sql, 'TSV').trim());
    expect(count(`SELECT count() FROM ${database}.metrics`)).toBe(2000);
    expect(count(`SELECT count() FROM ${database}.metrics_local`)).toBe(2000);
    expect(count(`SELECT countMerge(count) FROM ${database}.metrics_1m`)).toBe(2000);
    expect(count(`SELECT countMerge(count) FROM ${database}.metrics_1h`)).toBe(2000);
    expect(
      count(
        `SELECT round(quantileTDigestMerge(0.5)(quantiles)) FROM ${database}.metrics_1h WHERE device_id = 'd0'`,
      ),
    ).toBeGreaterThan(0);
  });
});

/**
 * chdb has no Keeper: the replicated engines become their plain counterparts (same arguments, same dedup
 * window) and ON CLUSTER is dropped; everything else runs as rendered.
 */
function withoutReplication(statement: string): string {
  return statement
    .replaceAll(` ON CLUSTER '${cluster}'`, '')
    .replace(/Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?/, '$1(')
    .replace('MergeTree()', 'MergeTree')
    .replace(/\breplicated_deduplication_window\b/, 'non_replicated_deduplication_window');
}
