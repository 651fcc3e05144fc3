import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { Session } from 'chdb';

/**
 * A thin HTTP front for the embedded ClickHouse engine (chdb, ClickHouse 26.7 in-process): one process owns
 * one chdb data folder and answers the subset of ClickHouse's HTTP interface that `@clickhouse/client`
 * speaks, so several processes (N ingest members, a test, an API) share one engine. It is NOT a ClickHouse
 * server: the engine is real (its SQL, formats, settings, deduplication tokens, materialized views and error
 * codes are ClickHouse's own), the front in between is this file. No ClickHouse server can be installed on
 * these machines (README, "Running at scale"); chdb has no HTTP listener of its own.
 *
 * What it serves:
 * - `GET /ping` and `GET /` -> `Ok.`
 * - `POST /?query_id=..&<setting>=..&param_<name>=..&default_format=..&database=..` with the statement in
 *   the body (queries, commands), or the statement in `query=` and the data in the body (inserts in any
 *   input format, RowBinary included: the bytes go to the engine untouched). `GET /?query=` for reads.
 * - Query parameters (`param_x`) are bound by the engine from their HTTP text form, as the server does.
 * - Settings apply to that request only (set before, reset to DEFAULT after).
 * - Errors: HTTP 500 (404 unknown table/database, 400 syntax) with ClickHouse's `Code: N. DB::Exception: ..`
 *   body and the `X-ClickHouse-Exception-Code` header; `X-ClickHouse-Summary`, `-Query-Id`, `-Format`,
 *   `-Timezone` on success. Request bodies may be gzip-compressed; responses are sent uncompressed.
 * What it does not: sessions (`session_id` is refused), ClickHouse's native compression (`decompress=1`),
 * users and grants (any credentials are accepted: bind it to 127.0.0.1), streaming of results (each result
 * is materialized), and concurrency: statements run one at a time, in arrival order, on one engine session.
 */

interface NativeResult {
  bytes: Buffer;
  elapsed: number;
  rowsRead: number;
  bytesRead: number;
}

interface ChdbNative {
  QueryAsyncConnection(
    connection: unknown,
    sql: string,
    format: string,
    params?: Record<string, string>,
  ): Promise<NativeResult>;
}

// chdb's JavaScript layer re-escapes parameter values; the HTTP interface receives them already in
// ClickHouse's wire form, so they go to chdb's native layer as they are.
const require = createRequire(import.meta.url);
const native = (
  require(join(dirname(require.resolve('chdb')), 'dist/loader.js')) as { loadNative(): ChdbNative }
).loadNative();

/** Request parameters that are not settings. */
const reserved = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'role',
  'compress',
  'decompress',
  'buffer_size',
]);

/** Settings of the HTTP layer itself: meaningless for the engine behind this front. */
const httpOnly = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
  'output_format_json_quote_64bit_integers_if_http',
]);

const settingName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** ClickHouse's HTTP status for an exception code (the rest are 500). */
const statusOf: Record<number, number> = {
  60: 404, // UNKNOWN_TABLE
  81: 404, // UNKNOWN_DATABASE
  62: 400, // SYNTAX_ERROR
  27: 400, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  457: 400, // BAD_QUERY_PARAMETER
  456: 400, // UNKNOWN_QUERY_PARAMETER
  115: 400, // UNKNOWN_SETTING
  48: 501, // NOT_IMPLEMENTED
};

class FrontError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(`Code: ${code}. DB::Exception: ${message}. (${type})`);
  }
}

export interface ChdbHttpOptions {
  /** The chdb data folder this process owns. */
  path: string;
  port: number;
  host?: string;
  log?: (line: Record<string, unknown>) => void;
}

export interface ChdbHttp {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Opens the folder and listens; statements run one at a time on the engine's one session. */
export async function startChdbHttp(options: ChdbHttpOptions): Promise<ChdbHttp> {
  const path = resolve(options.path);
  mkdirSync(path, { recursive: true });
  const session = new Session(path);
  const log = options.log ?? (() => undefined);
  const spool = spoolDir();
  let spooled = 0;
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = turn.then(task, task);
    turn = run.catch(() => undefined);
    return run;
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure =
        error instanceof FrontError
          ? error
          : { message: error instanceof Error ? error.message : String(error), code: codeOf(error) };
      const code = failure instanceof FrontError ? failure.code : failure.code;
      const status = statusOf[code] ?? 500;
      if (status === 500) log({ level: 'warn', msg: 'statement failed', code, error: failure.message });
      if (!response.headersSent) {
        response.writeHead(status, {
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(code),
          'X-ClickHouse-Server-Display-Name': 'chdb-http',
        });
      }
      response.end(`${failure.message.trimEnd()}\n`);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://front');
    if (
      url.pathname === '/ping' ||
      (url.pathname === '/' && request.method === 'GET' && !url.searchParams.has('query'))
    ) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' });
      response.end('Ok.\n');
      return;
    }
    if (url.pathname !== '/') throw new FrontError(48, 'NOT_IMPLEMENTED', `no handler for ${url.pathname}`);
    const params = url.searchParams;
    if (params.get('session_id')) {
      throw new FrontError(48, 'NOT_IMPLEMENTED', 'sessions are not served by this front (chdb-http)');
    }
    if (params.get('decompress') === '1' || params.get('compress') === '1') {
      throw new FrontError(
        48,
        'NOT_IMPLEMENTED',
        'ClickHouse native compression is not served by this front',
      );
    }
    let body = await readBody(request);
    const encoding = request.headers['content-encoding'];
    if (encoding === 'gzip') body = gunzipSync(body);
    else if (encoding && encoding !== 'identity') {
      throw new FrontError(48, 'NOT_IMPLEMENTED', `request Content-Encoding ${encoding} is not served`);
    }

    const queryId = params.get('query_id') || randomUUID();
    const format = params.get('default_format') || 'TabSeparated';
    const database = params.get('database');
    const bound: Record<string, string> = {};
    const settings: Array<[string, string]> = [];
    for (const [key, value] of params) {
      if (key.startsWith('param_')) bound[key.slice('param_'.length)] = value;
      else if (!reserved.has(key) && !httpOnly.has(key)) {
        if (!settingName.test(key)) throw new FrontError(115, 'UNKNOWN_SETTING', `Unknown setting ${key}`);
        settings.push([key, value]);
      }
    }
    const inURL = params.get('query') ?? '';
    const insert = inURL !== '' && body.length > 0 && /^\s*INSERT\b/i.test(inURL);
    const sql = insert ? inURL : [inURL, body.toString('utf8')].filter((s) => s.trim() !== '').join('\n');
    if (sql.trim() === '') throw new FrontError(62, 'SYNTAX_ERROR', 'Empty query');

    const outcome = await exclusive(async () => {
      const conn = session.connection;
      const before: string[] = [];
      if (database && database !== 'default') before.push(`USE ${quoteIdentifier(database)}`);
      if (settings.length > 0) {
        before.push(`SET ${settings.map(([k, v]) => `${k} = ${literal(v)}`).join(', ')}`);
      }
      try {
        for (const statement of before) await native.QueryAsyncConnection(conn, statement, 'TabSeparated');
        if (insert) {
          // The data goes through a memory-backed file, not inline after the statement: inline, the engine
          // splits the text into statements and cuts binary data at a ';' or newline byte.
          const file = join(spool, `chdb-http-${process.pid}-${++spooled}.data`);
          await writeFile(file, body);
          let result: NativeResult;
          try {
            result = await native.QueryAsyncConnection(conn, fromFile(inURL, file), 'TabSeparated');
          } finally {
            await rm(file, { force: true });
          }
          return {
            bytes: Buffer.alloc(0),
            summary: {
              read_rows: 0,
              read_bytes: body.length,
              written_rows: 0,
              written_bytes: body.length,
              result_rows: 0,
              result_bytes: 0,
              elapsed: result.elapsed,
            },
          };
        }
        const result = await native.QueryAsyncConnection(
          conn,
          sql,
          format,
          Object.keys(bound).length > 0 ? bound : undefined,
        );
        return {
          bytes: result.bytes,
          summary: {
            read_rows: result.rowsRead,
            read_bytes: result.bytesRead,
            written_rows: 0,
            written_bytes: 0,
            result_rows: result.rowsRead,
            result_bytes: result.bytes.length,
            elapsed: result.elapsed,
          },
        };
      } finally {
        // Settings and the database belong to this request alone, as over a server's HTTP interface.
        const after: string[] = [];
        if (settings.length > 0) after.push(`SET ${settings.map(([k]) => `${k} = DEFAULT`).join(', ')}`);
        if (database && database !== 'default') after.push('USE default');
        for (const statement of after) {
          await native.QueryAsyncConnection(conn, statement, 'TabSeparated').catch(() => undefined);
        }
      }
    });
    const { summary } = outcome;
    response.writeHead(200, {
      'Content-Type': contentType(formatOf(sql, format)),
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': formatOf(sql, format),
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Server-Display-Name': 'chdb-http',
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(summary.read_rows),
        read_bytes: String(summary.read_bytes),
        written_rows: String(summary.written_rows),
        written_bytes: String(summary.written_bytes),
        total_rows_to_read: '0',
        result_rows: String(summary.result_rows),
        result_bytes: String(summary.result_bytes),
        elapsed_ns: String(Math.round(summary.elapsed * 1e9)),
      }),
    });
    response.end(outcome.bytes);
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host ?? '127.0.0.1', () => done());
  });
  server.keepAliveTimeout = 10_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;
  log({ level: 'info', msg: 'chdb-http listening', url, path });
  return {
    url,
    server,
    close: async () => {
      await new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await turn;
      session.close();
    },
  };
}

/** `INSERT INTO t (c) [SETTINGS ..] FORMAT F` -> `INSERT INTO t (c) FROM INFILE '<file>' [SETTINGS ..] FORMAT F` */
function fromFile(statement: string, file: string): string {
  const clause = /\s(SETTINGS\s[\s\S]*?\s)?FORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(statement);
  if (!clause) throw new FrontError(62, 'SYNTAX_ERROR', 'an INSERT with data needs a FORMAT clause');
  const head = statement.slice(0, clause.index);
  return `${head} FROM INFILE '${file}' ${clause[1] ?? ''}FORMAT ${clause[2]}`;
}

function spoolDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  // A client that died mid-request must not have a prefix of its block inserted under its token: the
  // complete retry would then be dropped as a duplicate.
  if (!request.complete) throw new FrontError(33, 'CANNOT_READ_ALL_DATA', 'request body ended early');
  return Buffer.concat(chunks);
}

function codeOf(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  return Number(/Code: (\d+)\./.exec(message)?.[1] ?? 1002);
}

/** A setting's value from its HTTP text, as a string literal: the engine converts it to the setting's type. */
function literal(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

/** The output format: the statement's FORMAT clause, else `default_format`. */
function formatOf(sql: string, fallback: string): string {
  return /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql)?.[1] ?? fallback;
}

function contentType(format: string): string {
  if (format.startsWith('JSON')) return 'application/json; charset=UTF-8';
  if (format.startsWith('RowBinary') || format === 'Native' || format === 'Parquet' || format === 'Arrow') {
    return 'application/octet-stream';
  }
  if (format.startsWith('CSV')) return 'text/csv; charset=UTF-8';
  return 'text/tab-separated-values; charset=UTF-8';
}

/** `node tools/chdb-http/chdb-http.ts --path <folder> [--port 8123] [--host 127.0.0.1]` */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback?: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const path = arg('path');
  if (!path) {
    process.stderr.write('usage: chdb-http --path <chdb data folder> [--port 8123] [--host 127.0.0.1]\n');
    process.exit(2);
  }
  const port = Number(arg('port', '8123'));
  const log = (line: Record<string, unknown>) =>
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), component: 'chdb-http', ...line })}\n`,
    );
  const front = await startChdbHttp({ path, port, host: arg('host'), log });
  // The bound URL on stdout: a parent that passed --port 0 learns the port from it.
  process.stdout.write(`${front.url}\n`);
  const stop = () => {
    front.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
