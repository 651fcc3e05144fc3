import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { evaluateSeriesFiles, type RowResult } from './series-evaluation.js';

const logger = createLogger('test', 'silent');
const columns = { labelColumn: 'anomaly', changepointColumn: 'changepoint' };

/** 600 rows at 1 Hz of two noisy signals; rows 400..469 have the second one stuck far off. */
function grouped(): string {
  const random = seededRandom(3);
  const lines = ['datetime;a;b;anomaly;changepoint'];
  for (let t = 0; t < 600; t++) {
    const anomalous = t >= 400 && t < 470;
    const a = Math.sin(t / 6) + 0.2 * random();
    const b = anomalous ? 4 : Math.cos(t / 6) + 0.2 * random();
    const ts = new Date(Date.UTC(2020, 0, 1, 0, 0, t)).toISOString().slice(0, 19).replace('T', ' ');
    lines.push(`${ts};${a};${b};${anomalous ? 1 : 0};${t === 400 || t === 470 ? 1 : 0}`);
  }
  return lines.join('\n');
}

/** One value column, no labels, no time: a counter with a burst at row 900. */
function single(): string {
  const random = seededRandom(4);
  const lines = ['value'];
  for (let t = 0; t < 1200; t++) lines.push(String(t >= 900 && t < 903 ? 60 : 10 + Math.round(3 * random())));
  return lines.join('\n');
}

describe('evaluateSeriesFiles', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentio-eval-'));
    await writeFile(join(dir, 'grouped.csv'), grouped());
    await writeFile(join(dir, 'single.csv'), single());
    await writeFile(
      join(dir, 'gaps.csv'),
      // Two columns: an empty value cell is a gap (a wholly empty line would be skipped as blank).
      single()
        .split('\n')
        .map((l, i) => (i === 0 ? 'value,note' : i === 500 || i === 501 ? ',gap' : `${l},`))
        .join('\n'),
    );
    await writeFile(join(dir, 'broken.csv'), 'value\n1\nabc\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fits the group model on the first rows, reports every row joinable to the input, and counts the result', async () => {
    const rows: RowResult[] = [];
    const result = await evaluateSeriesFiles(
      [join(dir, 'grouped.csv')],
      { csv: columns, train: { rows: 300 }, online: false, detectors: ['auto'], nabWindowMs: 60_000 },
      logger,
      async (r) => {
        rows.push(...r);
      },
    );
    expect(rows).toHaveLength(600);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(rows.filter((r) => r.phase === 'train')).toHaveLength(300);
    expect(rows[300]!.timestampMs).toBe(Date.UTC(2020, 0, 1, 0, 5, 0));
    expect(rows.every((r) => r.calibrated! >= 0 && r.calibrated! <= 1)).toBe(true);
    const d = result.detectors[0]!;
    expect(d.detector).toBe('group');
    expect(d.binary!.tp + d.binary!.fp + d.binary!.tn + d.binary!.fn).toBe(300);
    expect(d.binary!.f1).toBeGreaterThan(0.8);
    // The 30-row mean clears about 30 rows after the episode ends: those rows are most of the false alarms.
    expect(d.binary!.far).toBeLessThan(20);
    expect(Object.keys(d.members)).toEqual(['correlation', 'level']);
    expect(result.changepoints).toBe(2);
    expect(d.nab!.standard).toBeGreaterThan(0);
    expect(rows.find((r) => r.label === 1 && r.predicted === 1)?.topFeature).toBe('b');
  });

  it('runs the univariate detector on one unlabelled value column with a training fraction, online', async () => {
    const rows: RowResult[] = [];
    const result = await evaluateSeriesFiles(
      [join(dir, 'single.csv')],
      {
        csv: { ...columns, timestampColumn: null },
        train: { fraction: 0.15 },
        online: true,
        detectors: ['auto'],
        nabWindowMs: 60_000,
      },
      logger,
      async (r) => {
        rows.push(...r);
      },
    );
    expect(rows).toHaveLength(1200);
    expect(rows[0]!.timestampMs).toBeUndefined();
    expect(result.files[0]!).toMatchObject({ detector: 'univariate', trainRows: 180, testRows: 1020 });
    expect(rows.filter((r) => r.predicted === 1).map((r) => r.row)).toEqual([900]);
    expect(result.files[0]!.flaggedRows).toBe(1);
    expect(result.detectors[0]!.binary).toBeUndefined();
  });

  it('bridges empty readings in a single metric and skips an unreadable file without stopping the run', async () => {
    let rows = 0;
    const result = await evaluateSeriesFiles(
      [join(dir, 'broken.csv'), join(dir, 'gaps.csv')],
      {
        csv: { ...columns, timestampColumn: null, valueColumns: ['value'] },
        train: { fraction: 0.15 },
        online: true,
        detectors: ['auto'],
        nabWindowMs: 60_000,
      },
      logger,
      async (r) => {
        rows += r.length;
      },
    );
    expect(result.skipped).toEqual([
      {
        file: join(dir, 'broken.csv'),
        reason: expect.stringMatching(/row 3: column value is not a number/) as string,
      },
    ]);
    expect(rows).toBe(1200);
    expect(result.files[0]!.flaggedRows).toBeGreaterThanOrEqual(1);
  });
});
