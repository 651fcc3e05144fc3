import { RobustGroupModel, type RobustGroupOptions } from './robust-group-model.js';

export interface RefitDecision {
  model: RobustGroupModel;
  swapped: boolean;
  /** Alarms of the model in use and of the candidate on the held-out last quarter of the recent rows. */
  currentAlarms: number;
  candidateAlarms: number;
  validationRows: number;
}

/**
 * Scheduled retraining with validation before the swap: a candidate is fitted on the first three quarters of
 * the device's recent rows and both models score all of them; the candidate replaces the model in use only
 * if it raises no more alarms than it on the last quarter, which the candidate has not seen. The caller only
 * offers rows from a stretch without alarms, so a fault is never taught as normal; this check keeps a
 * candidate fitted on an unrepresentative stretch from replacing a better model.
 */
export function refitIfBetter(
  current: RobustGroupModel,
  recent: readonly (readonly number[])[],
  options: Partial<RobustGroupOptions> = {},
): RefitDecision {
  const fitRows = Math.floor(recent.length * 0.75);
  const candidate = RobustGroupModel.fit(current.features, recent.slice(0, fitRows), {
    ...current.state.options,
    ...options,
  });
  const alarms = (m: RobustGroupModel) =>
    m
      .scoreSeries(recent)
      .slice(fitRows)
      .filter((s) => s.anomalous).length;
  const currentAlarms = alarms(current);
  const candidateAlarms = alarms(candidate);
  const swapped = candidateAlarms <= currentAlarms;
  return {
    model: swapped ? candidate : current,
    swapped,
    currentAlarms,
    candidateAlarms,
    validationRows: recent.length - fitRows,
  };
}
