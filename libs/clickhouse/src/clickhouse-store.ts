import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import type { Logger } from '@sentio/observability';
import { createChdbConnection } from 'chdb/connection';
import type { ClickHouseConfig } from './clickhouse.config.js';
import type { ColumnMap } from './column-map.util.js';
import { isBinaryColumnMap } from './row-binary.util.js';

/** Where RowBinary blocks wait for the embedded engine to read them: memory-backed when the machine has it. */
function spoolDir(): string {
  let dir: string;
  try {
    accessSync('/dev/shm', constants.W_OK);
    dir = '/dev/shm';
  } catch {
    dir = tmpdir();
  }
  // A process killed during an insert leaves its block behind; in /dev/shm that is memory until removed.
  for (const file of readdirSync(dir)) {
    const pid = Number(/^sentio-insert-(\d+)-\d+\.bin$/.exec(file)?.[1]);
    if (pid && !alive(pid)) rmSync(join(dir, file), { force: true });
  }
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
import { directTables, type TableVersions } from './projection-versions.js';

/**
 * One ClickHouse, embedded or a server, behind the same client: the SQL is the same for both.
 * The embedded engine binds its data folder to this process, so everything that reads or writes it must
 * live in this process.
 */
export class ClickHouseStore {
  private embeddedWrites: Promise<unknown> = Promise.resolve();
  private readonly spool = spoolDir();
  private spooled = 0;
  /** Projection families' live versions (ProjectionVersions): logical table names resolve through it. */
  versions: TableVersions = directTables;

  private constructor(
    readonly client: ClickHouseClient,
    readonly database: string,
    readonly mode: 'embedded' | 'server',
    readonly location: string,
  ) {}

  static open(config: ClickHouseConfig, logger: Logger): ClickHouseStore {
    if (config.url) {
      const client = createClient({
        url: config.url,
        username: config.username,
        password: config.password,
        request_timeout: 60_000,
        clickhouse_settings: { async_insert: 0 },
      });
      logger.info({ url: config.url, database: config.database }, 'clickhouse: server');
      return new ClickHouseStore(client, config.database, 'server', config.url);
    }
    const path = resolve(config.path);
    mkdirSync(path, { recursive: true });
    // chdb types its connection against @clickhouse/client-common, which @clickhouse/client now bundles as
    // its own copy: same shape, two declarations.
    const connection = createChdbConnection({
      path,
    }) as unknown as ClickHouseClientConfigOptions['connection'];
    const client = createClient({ connection });
    logger.info({ path, database: config.database }, 'clickhouse: embedded chdb');
    return new ClickHouseStore(client, config.database, 'embedded', path);
  }

  /** `database.table`; both parts are validated identifiers, never user input. */
  table(name: string): string {
    return `${this.database}.${this.versions.physical(name)}`;
  }

  /**
   * Inserts records as one block (their columns read by `columns`), deduplicated by `token`: inserting the same token
   * again (a retry after a crash) is a no-op in tables with a deduplication window. Throws on failure, so
   * nothing commits past it. Tables with a binary column map travel as RowBinary (embedded), others as JSON.
   */
  async insert<T>(table: string, columns: ColumnMap<T>, records: readonly T[], token: string): Promise<void> {
    if (records.length === 0) return;
    // Held only while the table's projection family is being swapped to another version.
    const held = this.versions.beginWrite(table);
    if (held) await held;
    try {
      const run = () => this.write(table, columns, records, token);
      if (this.mode === 'server') return await run();
      // The embedded engine applies settings with SET on its one session: two inserts in flight could swap
      // tokens, so they take turns (each still runs off the main thread).
      const turn = this.embeddedWrites.then(run);
      this.embeddedWrites = turn.catch(() => undefined);
      return await turn;
    } finally {
      this.versions.endWrite(table);
    }
  }

  private async write<T>(
    table: string,
    columns: ColumnMap<T>,
    records: readonly T[],
    token: string,
  ): Promise<void> {
    // The token is always set: the embedded engine keeps settings for the session, so an insert without
    // one would silently reuse the previous insert's token. A retried block must not reach the rollup
    // views twice either: views deduplicate on a token derived from the source block's.
    const settings = {
      insert_deduplication_token: token,
      async_insert: 0,
      deduplicate_blocks_in_dependent_materialized_views: 1,
    } as const;
    if (this.mode === 'server' && isBinaryColumnMap(columns)) {
      // RowBinary over HTTP: the statement in the URL, the block as the body (the server's input format).
      const { stream } = await this.client.exec({
        query: `INSERT INTO ${this.table(table)} (${columns.names.join(', ')}) FORMAT RowBinary`,
        values: Readable.from([columns.encode(records)]),
        clickhouse_settings: settings,
      });
      // Read to the end: the connection goes back to the pool only once its response is consumed.
      for await (const chunk of stream as AsyncIterable<unknown>) void chunk;
      return;
    }
    if (this.mode === 'embedded' && isBinaryColumnMap(columns)) {
      // RowBinary built from the records, no JSON on either side. The embedded connection only passes text
      // formats inline, so the block goes through a memory-backed file the engine reads with file().
      const file = join(this.spool, `sentio-insert-${process.pid}-${++this.spooled}.bin`);
      await writeFile(file, columns.encode(records));
      try {
        await this.client.command({
          query:
            `INSERT INTO ${this.table(table)} (${columns.names.join(', ')}) ` +
            `SELECT * FROM file('${file}', 'RowBinary', '${columns.structure.replaceAll("'", "\\'")}')`,
          clickhouse_settings: settings,
        });
      } finally {
        await rm(file, { force: true });
      }
      return;
    }
    // Rows as JSONCompactEachRow (tables without a binary column map): about 1.5x cheaper than keyed JSON.
    await this.client.insert({
      table: this.table(table),
      values: records.map(columns.row),
      columns: columns.names as [string, ...string[]],
      format: 'JSONCompactEachRow',
      clickhouse_settings: settings,
    });
  }

  async query<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }

  async command(query: string): Promise<void> {
    await this.client.command({ query });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
