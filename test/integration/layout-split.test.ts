import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLayoutScenario, type LayoutOutcome } from './support/layout-scenario.js';

// The same scenario as layout-all-in-one.test.ts, with the platform run as `sentio run ingest`.
describe('layout: split (sentio run ingest, simulator in its own process)', () => {
  let outcome: LayoutOutcome;

  beforeAll(async () => {
    outcome = await runLayoutScenario('layout_split', 'ingest');
  });

  afterAll(async () => {
    await outcome?.close();
  });

  it('lists every simulated device in the inventory', () => {
    expect(outcome.devices).toEqual(outcome.expectedDevices);
  });

  it('stores every sample of every device', () => {
    expect(outcome.samplesPerDevice).toEqual(outcome.expectedSamplesPerDevice);
    expect(outcome.total).toBe([...outcome.expectedSamplesPerDevice.values()].reduce((a, b) => a + b, 0));
  });
});
