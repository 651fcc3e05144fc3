import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCsvFiles, readCsvSeries } from './csv-series.util.js';

const columns = { timestampColumn: 'datetime', labelColumn: 'anomaly', changepointColumn: 'changepoint' };

describe('CSV series', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentio-csv-'));
    await mkdir(join(dir, 'b'));
    await writeFile(
      join(dir, 'b', '10.csv'),
      'datetime;Pressure;Flow Rate;note;anomaly;changepoint\n' +
        '2020-03-09 10:14:33;1.5;32.0;x;0.0;0.0\n' +
        '2020-03-09 10:14:34;1.6;31.0;y;1.0;1.0\n',
    );
    await writeFile(join(dir, 'b', '9.csv'), 'ts,v\n1583748873,1\n1583748874,2\n');
    await writeFile(join(dir, 'a.txt'), 'not a csv');
    await mkdir(join(dir, 'links'));
    await symlink(join(dir, 'b', '9.csv'), join(dir, 'links', 'linked.csv'));
    await writeFile(join(dir, 'plain.csv'), 'value\n1\n2\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists csv files below a folder in natural order, symbolic links included', async () => {
    expect(await listCsvFiles(dir)).toEqual([
      join(dir, 'b', '9.csv'),
      join(dir, 'b', '10.csv'),
      join(dir, 'links', 'linked.csv'),
      join(dir, 'plain.csv'),
    ]);
    expect(await listCsvFiles(join(dir, 'links'))).toEqual([join(dir, 'links', 'linked.csv')]);
  });

  it('finds the timestamp column by name, and says so when there is none instead of inventing times', async () => {
    const s = await readCsvSeries(join(dir, 'b', '9.csv'), { ...columns, timestampColumn: undefined });
    expect(s.timestampColumn).toBe('ts');
    await expect(
      readCsvSeries(join(dir, 'plain.csv'), { ...columns, timestampColumn: undefined }),
    ).rejects.toThrow(/no timestamp column found.*--no-timestamp/);
    await expect(readCsvSeries(join(dir, 'plain.csv'), columns)).rejects.toThrow(
      /no timestamp column "datetime"/,
    );
    const numbered = await readCsvSeries(join(dir, 'plain.csv'), { ...columns, timestampColumn: null });
    expect(numbered.timestampColumn).toBeUndefined();
    expect(numbered.rows).toEqual([[1], [2]]);
  });

  it('reads numeric features, UTC timestamps and labels; detects the separator', async () => {
    const s = await readCsvSeries(join(dir, 'b', '10.csv'), columns);
    expect(s.features).toEqual(['Pressure', 'Flow Rate']);
    expect(s.timestampsMs).toEqual([Date.UTC(2020, 2, 9, 10, 14, 33), Date.UTC(2020, 2, 9, 10, 14, 34)]);
    expect(s.rows).toEqual([
      [1.5, 32],
      [1.6, 31],
    ]);
    expect(s.labels).toEqual([0, 1]);
    expect(s.changepoints).toEqual([0, 1]);
  });

  it('reads epoch-second timestamps and files without labels', async () => {
    const s = await readCsvSeries(join(dir, 'b', '9.csv'), { ...columns, timestampColumn: 'ts' });
    expect(s.timestampsMs).toEqual([1583748873000, 1583748874000]);
    expect(s.labels).toBeUndefined();
    expect(s.features).toEqual(['v']);
  });
});
