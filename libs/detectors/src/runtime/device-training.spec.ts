import { describe, expect, it } from 'vitest';
import { detectorsConfigSection } from '../detectors.config.js';
import { csvDeviceRows, modelFitsConfig, modelPreprocessing, trainDeviceModel } from './device-training.js';
import { deviceStream } from './related-device-stream.js';
import { seededRandom } from '../seeded-random.util.js';
import { loadConfig } from '@sentio/config';

const config = loadConfig([detectorsConfigSection], {
  env: {
    DETECTORS_METRICS: 'flow,pressure',
    DETECTORS_BASELINE_TAU_ROWS: '4',
    DETECTORS_BASELINE_TREND_ROWS: '0',
    DETECTORS_WINDOW_LENGTH: '5',
  },
}).detectors;

describe('device training', () => {
  it('takes the configured metrics from a CSV in order, baselined like the online detector', () => {
    const rows = csvDeviceRows(
      {
        features: ['pressure', 'noise', 'flow'],
        timestampsMs: [0, 1000, 2000],
        rows: [
          [2, 9, 10],
          [2, 9, 14],
          [6, 9, 14],
        ],
      },
      config,
    );
    expect(rows.map((r) => r.raw)).toEqual([
      [10, 2],
      [14, 2],
      [14, 6],
    ]);
    // Baseline starts at the first row and moves a quarter of the way (tau 4) to each row.
    expect(rows.map((r) => r.residual)).toEqual([
      [0, 0],
      [4, 0],
      [3, 4],
    ]);
    expect(() => csvDeviceRows({ features: ['flow'], timestampsMs: [0], rows: [[1]] }, config)).toThrow(
      /no column pressure/,
    );
  });

  it('records the preprocessing in the model, which the scorer checks before using it', async () => {
    const rows = csvDeviceRows(
      {
        features: ['flow', 'pressure'],
        timestampsMs: Array.from({ length: 40 }, (_, i) => i * 1000),
        rows: Array.from({ length: 40 }, (_, i) => [Math.sin(i / 3), Math.cos(i / 3)]),
      },
      config,
    );
    const model = await trainDeviceModel('pump-1', rows, { ...config, epochs: 2 });
    expect(model.metadata.preprocessing).toEqual(modelPreprocessing(config));
    expect(model.metadata.trainingRange).toEqual({ fromMs: 1000, toMs: 40_000, rows: 40 });
    expect(model.features).toEqual(['flow', 'pressure']);
    expect(modelFitsConfig(model, config)).toBe(true);
    // A baseline with another time constant, another window or other metrics: the rows mean something else.
    expect(modelFitsConfig(model, { ...config, baselineTauRows: 8 })).toBe(false);
    expect(modelFitsConfig(model, { ...config, windowLength: 6 })).toBe(false);
    expect(modelFitsConfig(model, { ...config, metrics: ['pressure', 'flow'] })).toBe(false);
    model.dispose();
  });

  it('follows a ramp along the relation its group model learns from the rows, as the online stream does', () => {
    const trended = loadConfig([detectorsConfigSection], {
      env: { DETECTORS_METRICS: 'flow,pressure' },
    }).detectors;
    const random = seededRandom(3);
    let load = 0;
    // Flow and pressure follow one load: it wanders for 600 rows (the group model fits), then ramps.
    const rows = Array.from({ length: 1200 }, (_, i) => {
      load = 0.98 * load + 0.2 * (random() - 0.5);
      const common = load + (i >= 600 ? 0.01 * (i - 600) : 0);
      return [10 + common + 0.1 * (random() - 0.5), 50 + 2 * common + 0.2 * (random() - 0.5)];
    });
    const series = { features: ['flow', 'pressure'], timestampsMs: rows.map((_, i) => i * 1000), rows };
    const lagOf = (residuals: number[][]) => residuals.slice(-200).reduce((a, r) => a + r[0]!, 0) / 200;
    const plain = deviceStream(trended);
    const unrelated = rows.flatMap(
      (row, i) => plain.push({ deviceId: 'd', startMs: i * 1000, endMs: (i + 1) * 1000, rows: [row] }).added,
    );
    const related = csvDeviceRows(series, trended);
    // Without relations the trend is never followed: the baseline trails the ramp by slope x tau.
    expect(lagOf(unrelated.map((r) => r.residual))).toBeGreaterThan(1);
    expect(Math.abs(lagOf(related.map((r) => r.residual)))).toBeLessThan(0.25);
  });
});
