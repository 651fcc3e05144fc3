import { loadConfig } from '@sentio/config';
import { createLogger } from '@sentio/observability';
import { describe, expect, it } from 'vitest';
import { detectorsConfigSection } from '../../detectors.config.js';
import { seededRandom } from '../../seeded-random.util.js';
import type { StreamRow } from '../device-stream.js';
import { trainDeviceModel } from '../device-training.js';
import { initTfBackend } from '../tf-backend.js';
import { retrainAutoencoderIfBetter } from './autoencoder-retrain.js';

const config = loadConfig([detectorsConfigSection], {
  env: { DETECTORS_METRICS: 'flow,current', DETECTORS_WINDOW_LENGTH: '5' },
}).detectors;
config.epochs = 15;

/** Two correlated metrics with a slow wave (baseline-relative rows of a healthy device). */
function rows(n: number, seed: number, noise = 1, fromMs = 0): StreamRow[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const common = Math.sin(i / 20) + 0.2 * (random() - 0.5);
    const residual = [common + 0.1 * noise * (random() - 0.5), 2 * common + 0.1 * noise * (random() - 0.5)];
    return { endMs: fromMs + (i + 1) * 1000, raw: residual, residual };
  });
}

describe('retrainAutoencoderIfBetter', () => {
  it('swaps in a candidate that validates and rejects one fitted on a stretch that blunts it', async () => {
    await initTfBackend(createLogger('test', 'silent'));
    const current = await trainDeviceModel('pump', rows(400, 1), config);
    const good = await retrainAutoencoderIfBetter('pump', current, rows(800, 2, 1, 1e6), config);
    expect(good.validationRows).toBe(200);
    expect(good.candidate.meanDetection).toBeGreaterThan(0.5);
    expect(good.swapped).toBe(true);
    expect(good.model.metadata.modelVersion).not.toBe(current.metadata.modelVersion);

    // Its three quarters are eighty times noisier (a loose sensor, since fixed): the candidate's threshold
    // grows so wide that it misses offsets the model in use catches.
    const noisy = [...rows(600, 3, 80, 2e6), ...rows(200, 4, 1, 3e6)];
    const bad = await retrainAutoencoderIfBetter('pump', current, noisy, config);
    expect(bad.candidate.meanDetection).toBeLessThan(bad.current.meanDetection - 0.05);
    expect(bad.swapped).toBe(false);
    expect(bad.model).toBe(current);
  }, 60_000);
});
