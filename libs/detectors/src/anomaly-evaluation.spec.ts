import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCsvFiles, type ScoredRow } from './anomaly-evaluation.js';
import { initTfBackend } from './tf-backend.js';

/** 300 rows at 1 Hz; rows 200..249 have the second signal stuck far off, labelled as one episode. */
function csv(): string {
  const lines = ['datetime;a;b;anomaly;changepoint'];
  for (let t = 0; t < 300; t++) {
    const a = Math.sin(t / 6);
    const anomalous = t >= 200 && t < 250;
    const b = anomalous ? 4 : Math.cos(t / 6);
    const ts = new Date(Date.UTC(2020, 0, 1, 0, 0, t)).toISOString().slice(0, 19).replace('T', ' ');
    lines.push(`${ts};${a};${b};${anomalous ? 1 : 0};${t === 200 || t === 250 ? 1 : 0}`);
  }
  return lines.join('\n');
}

describe('evaluateCsvFiles', () => {
  let dir: string;
  beforeAll(async () => {
    await initTfBackend(createLogger('test', 'silent'));
    dir = await mkdtemp(join(tmpdir(), 'sentio-eval-'));
    await writeFile(join(dir, 'series.csv'), csv());
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('trains on the first rows only, scores every later row and counts the result', async () => {
    const rows: ScoredRow[] = [];
    const result = await evaluateCsvFiles(
      [join(dir, 'series.csv')],
      {
        csv: { timestampColumn: 'datetime', labelColumn: 'anomaly', changepointColumn: 'changepoint' },
        trainRows: 150,
        nabWindowMs: 60_000,
        autoencoder: { windowLength: 5, epochs: 30 },
      },
      createLogger('test', 'silent'),
      async (r) => {
        rows.push(...r);
      },
    );
    expect(rows).toHaveLength(150);
    expect(rows[0]!.timestampMs).toBe(Date.UTC(2020, 0, 1, 0, 2, 30));
    expect(result.changepoints).toBe(2);
    const b = result.binary!;
    expect(b.tp + b.fp + b.tn + b.fn).toBe(150);
    expect(b.f1).toBeGreaterThan(0.8);
    expect(result.nab!.standard).toBeGreaterThan(0);
    expect(rows.find((r) => r.label === 1 && r.predicted === 1)?.topFeature).toBe('b');
  });
});
