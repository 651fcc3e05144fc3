import type { DetectorsConfig } from '../../detectors.config.js';
import { validateCandidate, type ValidationScore } from '../../models/candidate-validation.js';
import type { WindowAutoencoder } from '../../models/window-autoencoder.js';
import { trainDeviceModel } from '../device-training.js';
import type { StreamRow } from '../device-stream.js';

export interface AutoencoderRetrainDecision {
  /** The model to use from now on: the candidate when it validated, else the current one. */
  model: WindowAutoencoder;
  swapped: boolean;
  current: ValidationScore;
  candidate: ValidationScore;
  validationRows: number;
}

/** The autoencoder's alarms row by row (each row: the window ending at it), for candidate validation. */
function autoencoderAlarms(
  model: WindowAutoencoder,
  warm: readonly (readonly number[])[],
): (rows: readonly (readonly number[])[]) => boolean[] {
  return (rows) => {
    const all = [...warm, ...rows];
    const length = model.windowLength;
    const windows = rows.map((_, i) =>
      all.slice(Math.max(0, warm.length + i - length + 1), warm.length + i + 1),
    );
    return model.scoreWindows(windows).map((s) => s.score > model.threshold);
  };
}

/**
 * Retrains a device's autoencoder on its recent rows and keeps the candidate only if it validates against
 * the model in use on the last quarter of them, which the candidate has not seen (same rule as the group
 * model: no more false alarms, about as much of a synthetic offset per metric caught). The caller offers a
 * stretch without alarms from either member, so a fault is not taught as normal. A rejected candidate is
 * disposed of; an accepted one is the caller's to save and swap in.
 */
export async function retrainAutoencoderIfBetter(
  deviceId: string,
  current: WindowAutoencoder,
  recent: readonly StreamRow[],
  config: DetectorsConfig,
): Promise<AutoencoderRetrainDecision> {
  const fitRows = Math.floor(recent.length * 0.75);
  const candidate = await trainDeviceModel(deviceId, recent.slice(0, fitRows), config);
  const residuals = recent.map((r) => r.residual);
  const warm = residuals.slice(Math.max(0, fitRows - current.windowLength + 1), fitRows);
  const heldOut = residuals.slice(fitRows);
  const verdict = validateCandidate(
    autoencoderAlarms(current, warm),
    autoencoderAlarms(candidate, warm),
    heldOut,
  );
  if (!verdict.better) candidate.dispose();
  return {
    model: verdict.better ? candidate : current,
    swapped: verdict.better,
    current: verdict.current,
    candidate: verdict.candidate,
    validationRows: heldOut.length,
  };
}
