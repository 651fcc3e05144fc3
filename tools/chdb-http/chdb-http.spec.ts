import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChdbHttp, type ChdbHttp } from './chdb-http.js';

/** The front against the real engine, driven by the client the platform uses. */
describe('chdb-http: ClickHouse HTTP interface in front of one chdb folder', () => {
  let folder: string;
  let front: ChdbHttp;
  let client: ClickHouseClient;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'sentio-chdb-http-'));
    front = await startChdbHttp({ path: folder, port: 0 });
    client = createClient({ url: front.url });
    await client.command({
      query: `CREATE TABLE default.t (a UInt32, b String, d Float64) ENGINE = MergeTree ORDER BY a
              SETTINGS non_replicated_deduplication_window = 100`,
    });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await front?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const rowBinary = (from: number, count: number) =>
    Buffer.concat(
      Array.from({ length: count }, (_, i) => {
        // Every row carries ';', newline and CR bytes: inline after the statement the engine would cut there.
        const row = Buffer.alloc(4 + 1 + 3 + 8);
        row.writeUInt32LE(from + i, 0);
        row[4] = 3;
        row.write(';\n\r', 5, 'latin1');
        row.writeDoubleLE(from + i + 0.5, 8);
        return row;
      }),
    );

  const insertRowBinary = async (body: Buffer, token: string) => {
    const { stream } = await client.exec({
      query: 'INSERT INTO default.t (a, b, d) FORMAT RowBinary',
      values: Readable.from([body]),
      clickhouse_settings: { insert_deduplication_token: token },
    });
    for await (const chunk of stream as AsyncIterable<unknown>) void chunk;
  };

  const count = async () =>
    Number(
      (
        await (
          await client.query({ query: 'SELECT count() AS n FROM default.t', format: 'JSONEachRow' })
        ).json<{ n: string }>()
      )[0]!.n,
    );

  it('inserts RowBinary bodies byte for byte and drops a block repeated under its token', async () => {
    await insertRowBinary(rowBinary(0, 1000), 'range-0');
    await insertRowBinary(rowBinary(0, 1000), 'range-0');
    await insertRowBinary(rowBinary(1000, 10), 'range-1');
    expect(await count()).toBe(1010);
    const [row] = await (
      await client.query({
        query: 'SELECT sum(d) AS s, countIf(b = {b:String}) AS n FROM default.t',
        query_params: { b: ';\n\r' },
        format: 'JSONEachRow',
      })
    ).json<{ s: number; n: string | number }>();
    expect({ s: row!.s, n: Number(row!.n) }).toEqual({ s: (1010 * 1009) / 2 + 1010 * 0.5, n: 1010 });
  });

  it('applies settings to their request only', async () => {
    const settings = async () =>
      (
        await (
          await client.query({
            query: "SELECT value FROM system.settings WHERE name = 'insert_deduplication_token'",
            format: 'JSONEachRow',
          })
        ).json<{ value: string }>()
      )[0]!.value;
    await insertRowBinary(rowBinary(2000, 1), 'left-behind?');
    expect(await settings()).toBe('');
  });

  it('binds query parameters from their HTTP text form, arrays and quotes included', async () => {
    const rows = await (
      await client.query({
        query: 'SELECT a FROM default.t WHERE a IN {a:Array(UInt32)} AND {s:String} = {t:String} ORDER BY a',
        query_params: { a: [1, 2, 5000], s: "it's", t: "it's" },
        format: 'JSONEachRow',
      })
    ).json<{ a: number }>();
    expect(rows).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("answers errors as the server does: ClickHouse's code, name and an HTTP status", async () => {
    await expect(
      client.query({ query: 'SELECT * FROM default.nope', format: 'JSONEachRow' }),
    ).rejects.toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' });
    const response = await fetch(`${front.url}/?query=SELECT%20*%20FROM%20default.nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await response.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)/);
  });

  it('refuses sessions instead of ignoring them', async () => {
    const response = await fetch(`${front.url}/?session_id=s1`, { method: 'POST', body: 'SELECT 1' });
    expect(response.status).toBe(501);
    expect(response.headers.get('x-clickhouse-exception-code')).toBe('48');
  });

  it('inserts nothing from a body cut short by a client that went away', async () => {
    const before = await count();
    const url = new URL(front.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: `/?query=${encodeURIComponent('INSERT INTO default.t (a, b, d) FORMAT RowBinary')}`,
        headers: { 'Transfer-Encoding': 'chunked' },
      });
      req.on('error', () => resolve());
      // Whole rows, then the connection dies before the body's end.
      req.write(rowBinary(3000, 5));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await count()).toBe(before);
  });
});
