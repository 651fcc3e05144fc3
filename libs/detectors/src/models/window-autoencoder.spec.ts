import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../seeded-random.util.js';
import { initTfBackend } from '../runtime/tf-backend.js';
import { WindowAutoencoder } from './window-autoencoder.js';

const features = ['pressure', 'flow', 'temperature'];

/** Three coupled signals: flow follows pressure, temperature drifts slowly. */
function series(n: number, seed: number): number[][] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, t) => {
    const p = Math.sin(t / 8) + 0.05 * (random() - 0.5);
    return [p, 2 * p + 0.05 * (random() - 0.5), 20 + Math.cos(t / 30) + 0.05 * (random() - 0.5)];
  });
}

const options = { windowLength: 8, epochs: 60, hiddenUnits: 16, latentUnits: 4 };
const train = (rows: number[][]) =>
  WindowAutoencoder.train({
    modelId: 'test',
    features,
    rows,
    trainingRange: { fromMs: 0, toMs: rows.length - 1, rows: rows.length },
    options,
  });

describe('WindowAutoencoder', () => {
  let dir: string;
  let model: WindowAutoencoder;
  const rows = series(300, 1);

  beforeAll(async () => {
    await initTfBackend(createLogger('test', 'silent'));
    dir = await mkdtemp(join(tmpdir(), 'sentio-ae-'));
    model = await train(rows.slice(0, 200));
  });

  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores normal windows below the threshold and a broken correlation above it, blaming the right metric', () => {
    const normal = model.scoreSeries(rows, 200);
    const flagged = normal.filter((s) => s.score > model.threshold).length;
    expect(flagged / normal.length).toBeLessThan(0.1);

    // Flow no longer follows pressure: it runs opposite to it.
    const broken = rows.slice(250, 258).map((r) => [r[0]!, -r[1]!, r[2]!]);
    const score = model.scoreWindow(broken);
    expect(score.score).toBeGreaterThan(model.threshold);
    const top = score.contributions.indexOf(Math.max(...score.contributions));
    expect(features[top]).toBe('flow');
    expect(score.contributions.reduce((a, b) => a + b, 0) / features.length).toBeCloseTo(score.score, 6);
  });

  it('records how it was trained and derives the threshold from the documented rule', () => {
    const m = model.metadata;
    expect(m.threshold.value).toBeCloseTo(m.metrics.trainScoreQuantile * m.threshold.factor, 12);
    expect(m.threshold.quantile).toBe(0.99);
    expect(m.trainingRange.rows).toBe(200);
    expect(m.scaler.mean).toHaveLength(3);
    expect(m.dataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.metrics.trainWindows).toBe(200 - 8 + 1);
  });

  it('saves to a folder and loads back a model that scores identically', async () => {
    await model.save(dir);
    const loaded = await WindowAutoencoder.load(dir);
    try {
      expect(loaded.metadata).toEqual(model.metadata);
      const a = model.scoreSeries(rows, 280).map((s) => s.score);
      const b = loaded.scoreSeries(rows, 280).map((s) => s.score);
      expect(b).toEqual(a);
    } finally {
      loaded.dispose();
    }
  });

  it('trains the same model from the same data and seed', async () => {
    const again = await train(rows.slice(0, 200));
    try {
      expect(again.metadata.modelVersion).toBe(model.metadata.modelVersion);
      expect(again.threshold).toBe(model.threshold);
    } finally {
      again.dispose();
    }
  });

  it('sets the threshold from held-out trailing rows when asked, fitting only the rows before them', async () => {
    const calibrated = await WindowAutoencoder.train({
      modelId: 'test',
      features,
      rows: rows.slice(0, 200),
      trainingRange: { fromMs: 0, toMs: 199, rows: 200 },
      options: { ...options, calibrationRows: 50 },
    });
    expect(calibrated.metadata.metrics.trainWindows).toBe(150 - 8 + 1);
    expect(calibrated.metadata.metrics.calibrationWindows).toBe(50);
    expect(calibrated.metadata.threshold.rule).toMatch(/held-out/);
    expect(calibrated.metadata.scaler).not.toEqual(model.metadata.scaler);
    calibrated.dispose();
    await expect(
      WindowAutoencoder.train({
        modelId: 'test',
        features,
        rows: rows.slice(0, 20),
        trainingRange: { fromMs: 0, toMs: 19, rows: 20 },
        options: { ...options, calibrationRows: 15 },
      }),
    ).rejects.toThrow(/besides 15 held out/);
  });
});
