/**
 * Cluster mode of the schema: renders the single-node migration statements for a sharded, replicated
 * ClickHouse cluster (`CLICKHOUSE_CLUSTER`). The migration files stay written for one node (the default,
 * and what the embedded engine runs); every statement is rewritten here by its kind, so a migration added
 * later needs no cluster twin. A statement this renderer does not understand stops rendering with its text
 * rather than running un-clustered on one node.
 *
 * For each MergeTree-family table `db.t`:
 * - `db.t_local ON CLUSTER`: the same columns with the Replicated variant of its engine, on every shard;
 *   `non_replicated_deduplication_window` becomes `replicated_deduplication_window` (same size), so the
 *   sink's dedup tokens hold on every replica of a shard;
 * - `db.t ON CLUSTER`: a Distributed table with the original name over `t_local`, sharded by a
 *   deterministic key, so repositories and queries use the same names in both modes and a retried block is
 *   split across the shards exactly as the first attempt was (each shard then drops its part by token).
 * Materialized views attach to the local tables on each shard (`FROM t_local TO rollup_local`), so a rollup
 * row is built on the shard that holds its raw rows; reads merge the aggregate states across shards.
 */

export interface ClusterRenderOptions {
  /** The `remote_servers` cluster name (the Altinity operator names it after the installation's cluster). */
  cluster: string;
  database: string;
}

/** What earlier statements created, carried across migrations in order (a view in 003 may read 001's table). */
export interface ClusterSchemaState {
  /** Logical tables rendered as `<name>_local` + Distributed `<name>`, with what a clone (`AS`) repeats. */
  distributed: Map<string, DistributedTable>;
}

interface DistributedTable {
  /** The single-node engine name and arguments, e.g. `ReplacingMergeTree` and `updated_at`. */
  engine: string;
  engineArgs: string;
  /** Everything after the engine: PARTITION BY, ORDER BY, TTL, SETTINGS (already with replicated names). */
  storage: string;
  shardingKey: string;
}

export const localSuffix = '_local';

/**
 * Sharding keys that differ from the default (a hash of the first sorting-key column, which keeps every row
 * of one sorting key on one shard, as ReplacingMergeTree needs). Why each differs:
 * - spans: sorted by service first, which would put a busy service on one shard; a trace stays together.
 * - sink_batches: sorted by consumer group first (one shard for all); each Kafka partition's write-ahead
 *   ranges live on one shard, so "the newest range of a partition" is answered by one shard's replicas.
 */
export const clusterShardingKeys: Readonly<Record<string, string>> = {
  spans: 'cityHash64(trace_id)',
  sink_batches: 'cityHash64(consumer_group, topic, partition)',
};

/**
 * Settings the server connection uses in cluster mode. Distributed inserts are forwarded to the shards
 * before the insert returns (the sink commits Kafka offsets right after), and each shard's part waits for a
 * majority of its replicas, so a replica lost after the commit cannot take the only copy with it.
 */
export const clusterInsertSettings = {
  distributed_foreground_insert: 1,
  insert_quorum: 'auto',
} as const;

export function newClusterSchemaState(): ClusterSchemaState {
  return { distributed: new Map() };
}

const identifier = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const mergeTreeEngine =
  /^(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite|Coalescing)?MergeTree$/;

export function renderClusterStatements(
  statements: readonly string[],
  options: ClusterRenderOptions,
  state: ClusterSchemaState,
): string[] {
  if (!identifier.test(options.cluster)) {
    throw new Error(`cluster name ${JSON.stringify(options.cluster)}: expected letters, digits, _ or -`);
  }
  return statements.flatMap((statement) => renderStatement(statement.trim(), options, state));
}

/** `ON CLUSTER` for the bootstrap table of `migrate()`: one replicated table, a replica on every node. */
export function renderClusterMigrationsTable(options: ClusterRenderOptions): string {
  const { cluster, database } = options;
  return `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations ON CLUSTER '${cluster}'
     (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplicatedMergeTree('/clickhouse/${cluster}/tables/all/${database}/schema_migrations', '{replica}')
     ORDER BY version`;
}

function renderStatement(sql: string, options: ClusterRenderOptions, state: ClusterSchemaState): string[] {
  const onCluster = `ON CLUSTER '${options.cluster}'`;
  const head = sql.replace(/\s+/g, ' ').slice(0, 120);
  const fail = (why: string): never => {
    throw new Error(`cluster mode cannot render "${head}": ${why}`);
  };
  const name = String.raw`(${escapeRegExp(options.database)})\.(\w+)`;

  let m = /^CREATE DATABASE (IF NOT EXISTS )?(\w+)/i.exec(sql);
  if (m) return [insertAt(sql, m[0].length, ` ${onCluster}`)];

  m = new RegExp(String.raw`^CREATE TABLE (IF NOT EXISTS )?${name}\s*\(`, 'i').exec(sql);
  if (m) return renderCreateTable(sql, m, options, state, fail);
  m = new RegExp(String.raw`^CREATE TABLE (IF NOT EXISTS )?${name} AS ${name}\s*$`, 'i').exec(sql);
  if (m) return renderCloneTable(m[1] ?? '', m[3]!, m[5]!, options, state);
  if (/^CREATE TABLE /i.test(sql)) fail('a table needs its own column list or AS <table> (not AS SELECT)');

  m = new RegExp(String.raw`^CREATE MATERIALIZED VIEW (IF NOT EXISTS )?${name}`, 'i').exec(sql);
  if (m) {
    if (!/\sTO\s/i.test(sql.slice(m[0].length, sql.search(/\sAS\s+SELECT\s/i)))) {
      fail('a materialized view needs TO <table> (an inner engine would not be replicated)');
    }
    return [
      insertAt(localReferences(sql, m[0].length, options.database, state), m[0].length, ` ${onCluster}`),
    ];
  }

  m = new RegExp(
    String.raw`^CREATE (OR REPLACE )?(VIEW|DICTIONARY|FUNCTION) (IF NOT EXISTS )?(${escapeRegExp(options.database)}\.)?\w+`,
    'i',
  ).exec(sql);
  if (m) return [insertAt(sql, m[0].length, ` ${onCluster}`)];

  m = new RegExp(String.raw`^ALTER TABLE ${name}`, 'i').exec(sql);
  if (m) {
    const table = m[2]!;
    const rest = sql.slice(m[0].length);
    if (!state.distributed.has(table)) return [insertAt(sql, m[0].length, ` ${onCluster}`)];
    const local = `ALTER TABLE ${options.database}.${table}${localSuffix} ${onCluster}${rest}`;
    // Column changes apply to both tables (a Distributed table has the columns too); the rest (indexes,
    // TTL, settings, mutations) concerns the stored data alone.
    const columnsOnly = splitTopLevel(rest).every((action) =>
      /^\s*(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b/i.test(action),
    );
    return columnsOnly ? [local, insertAt(sql, m[0].length, ` ${onCluster}`)] : [local];
  }

  m = new RegExp(String.raw`^DROP (TABLE|VIEW|DICTIONARY) (IF EXISTS )?${name}`, 'i').exec(sql);
  if (m) {
    const table = m[4]!;
    // SYNC: a replicated table's Keeper path must be free before a later migration creates it again.
    const drop = (t: string) => `DROP ${m![1]} ${m![2] ?? ''}${options.database}.${t} ${onCluster} SYNC`;
    if (!state.distributed.delete(table)) return [drop(table)];
    return [drop(table), drop(`${table}${localSuffix}`)];
  }

  m = new RegExp(String.raw`^(TRUNCATE TABLE|OPTIMIZE TABLE) (IF EXISTS )?${name}`, 'i').exec(sql);
  if (m) {
    const table = state.distributed.has(m[4]!) ? `${m[4]}${localSuffix}` : m[4];
    return [`${m[1]} ${m[2] ?? ''}${options.database}.${table} ${onCluster}${sql.slice(m[0].length)}`];
  }

  // Data statements go through the Distributed tables like any client insert.
  if (/^INSERT INTO /i.test(sql)) return [sql];
  return fail('unknown statement kind; teach libs/clickhouse/src/cluster-schema.util.ts about it');
}

function renderCreateTable(
  sql: string,
  m: RegExpExecArray,
  options: ClusterRenderOptions,
  state: ClusterSchemaState,
  fail: (why: string) => never,
): string[] {
  const { cluster, database } = options;
  const onCluster = `ON CLUSTER '${cluster}'`;
  const ifNotExists = m[1] ?? '';
  const table = m[3]!;
  const open = m[0].length - 1;
  const close = matchingParen(sql, open);
  if (close < 0) fail('unbalanced parentheses');
  const columns = sql.slice(open, close + 1);
  const tail = sql.slice(close + 1);
  const engine = /^\s*ENGINE\s*=\s*(\w+)(\s*\()?/i.exec(tail);
  if (!engine) fail('expected ENGINE = right after the column list');
  const engineName = engine![1]!;
  if (!mergeTreeEngine.test(engineName)) {
    // Null, Memory, Buffer, ...: a plain table on every node (nothing to replicate or shard).
    return [`CREATE TABLE ${ifNotExists}${database}.${table} ${onCluster} ${columns}${tail}`];
  }

  let engineArgs = '';
  let afterEngine = tail.slice(engine![0].length);
  if (engine![2]) {
    const argsClose = matchingParen(tail, engine![0].length - 1);
    if (argsClose < 0) fail('unbalanced engine arguments');
    engineArgs = tail.slice(engine![0].length, argsClose).trim();
    afterEngine = tail.slice(argsClose + 1);
  }
  const storage = afterEngine.replace(
    /\bnon_replicated_deduplication_window\b/gi,
    'replicated_deduplication_window',
  );
  const shardingKey = clusterShardingKeys[table] ?? defaultShardingKey(afterEngine, fail);
  const definition = { engine: engineName, engineArgs, storage, shardingKey };
  state.distributed.set(table, definition);
  return [
    `CREATE TABLE ${ifNotExists}${database}.${table}${localSuffix} ${onCluster} ${columns}\n` +
      `${replicatedEngine(table, definition, options)}${storage}`,
    distributedTable(ifNotExists, table, definition, options),
  ];
}

/** `CREATE TABLE x AS y` (a new version of a table): the clone gets its own Keeper path, y's storage and key. */
function renderCloneTable(
  ifNotExists: string,
  table: string,
  source: string,
  options: ClusterRenderOptions,
  state: ClusterSchemaState,
): string[] {
  const { cluster, database } = options;
  const definition = state.distributed.get(source);
  if (!definition)
    return [
      `CREATE TABLE ${ifNotExists}${database}.${table} ON CLUSTER '${cluster}' AS ${database}.${source}`,
    ];
  state.distributed.set(table, definition);
  return [
    `CREATE TABLE ${ifNotExists}${database}.${table}${localSuffix} ON CLUSTER '${cluster}' AS ${database}.${source}${localSuffix}\n` +
      `${replicatedEngine(table, definition, options)}${definition.storage}`,
    distributedTable(ifNotExists, table, definition, options),
  ];
}

function replicatedEngine(
  table: string,
  definition: DistributedTable,
  options: ClusterRenderOptions,
): string {
  const { cluster, database } = options;
  const keeperPath = `'/clickhouse/${cluster}/tables/{shard}/${database}/${table}${localSuffix}', '{replica}'`;
  const args = definition.engineArgs ? `, ${definition.engineArgs}` : '';
  return `ENGINE = Replicated${definition.engine}(${keeperPath}${args})`;
}

function distributedTable(
  ifNotExists: string,
  table: string,
  definition: DistributedTable,
  options: ClusterRenderOptions,
): string {
  const { cluster, database } = options;
  return (
    `CREATE TABLE ${ifNotExists}${database}.${table} ON CLUSTER '${cluster}' AS ${database}.${table}${localSuffix}\n` +
    `ENGINE = Distributed('${cluster}', ${database}, ${table}${localSuffix}, ${definition.shardingKey})`
  );
}

/** A hash of the first sorting-key column: deterministic, and every row of one sorting key on one shard. */
function defaultShardingKey(afterEngine: string, fail: (why: string) => never): string {
  const order = /\bORDER BY\s+/i.exec(afterEngine);
  if (!order) fail('no ORDER BY to derive a sharding key from; add one to clusterShardingKeys');
  const rest = afterEngine.slice(order!.index + order![0].length);
  let first: string;
  if (rest.startsWith('(')) {
    const close = matchingParen(rest, 0);
    first = splitTopLevel(rest.slice(1, close))[0]!.trim();
  } else {
    first = /^[^\s]+(\([^)]*\))?/.exec(rest)![0];
  }
  if (!first || /^tuple\(\s*\)$/i.test(first)) fail('ORDER BY tuple(): add a key to clusterShardingKeys');
  return `cityHash64(${first})`;
}

/** In a view's TO target and its query, a Distributed table's name becomes its shard-local table. */
function localReferences(sql: string, from: number, database: string, state: ClusterSchemaState): string {
  let body = sql.slice(from);
  for (const table of state.distributed.keys()) {
    body = body.replace(
      new RegExp(String.raw`\b${escapeRegExp(database)}\.${table}\b(?!${localSuffix})`, 'g'),
      `${database}.${table}${localSuffix}`,
    );
  }
  return sql.slice(0, from) + body;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '`' || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Splits at commas outside parentheses and quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '`' || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function insertAt(text: string, at: number, insert: string): string {
  return text.slice(0, at) + insert + text.slice(at);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
