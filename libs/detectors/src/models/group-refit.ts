import { validateCandidate, type ValidationScore } from './candidate-validation.js';
import { RobustGroupModel, type RobustGroupOptions } from './robust-group-model.js';

export interface RefitDecision {
  model: RobustGroupModel;
  swapped: boolean;
  /** Alarms of the model in use and of the candidate on the held-out last quarter of the recent rows. */
  currentAlarms: number;
  candidateAlarms: number;
  validationRows: number;
  /** Both models' validation in full: false-alarm rate and per-metric detection of injected offsets. */
  current: ValidationScore;
  candidate: ValidationScore;
}

/** The group model's alarms row by row, for candidate validation. */
export function groupAlarms(model: RobustGroupModel): (rows: readonly (readonly number[])[]) => boolean[] {
  return (rows) => model.scoreSeries(rows).map((s) => s.anomalous);
}

/**
 * Retraining with validation before the swap: a candidate is fitted on the first three quarters of the
 * device's recent rows; both models score the last quarter, which the candidate has not seen, clean and with
 * a synthetic offset injected into each metric in turn (see validateCandidate). The candidate replaces the
 * model in use only if it raises no more false alarms and catches at least as many injected faults. The
 * caller only offers rows from a stretch without alarms, so a fault is never taught as normal; this check
 * keeps a candidate fitted on an unrepresentative stretch from replacing a better model.
 */
export function refitIfBetter(
  current: RobustGroupModel,
  recent: readonly (readonly number[])[],
  options: Partial<RobustGroupOptions> = {},
): RefitDecision {
  const fitRows = Math.floor(recent.length * 0.75);
  const candidate = RobustGroupModel.fit(
    current.features,
    recent.slice(0, fitRows),
    { ...current.state.options, ...options },
    {
      // The relations the full fit learned stay: a stretch without alarms is often one where load barely moved.
      relations: { correlation: current.state.correlation, level: current.state.level },
    },
  );
  // Each model scores the held-out rows after the rows before them, so its trailing mean starts warm.
  const warm = recent.slice(Math.max(0, fitRows - current.state.options.smoothRows), fitRows);
  const scorer = (m: RobustGroupModel) => (rows: readonly (readonly number[])[]) =>
    m
      .scoreSeries([...warm, ...rows])
      .slice(warm.length)
      .map((s) => s.anomalous);
  const heldOut = recent.slice(fitRows);
  const verdict = validateCandidate(scorer(current), scorer(candidate), heldOut);
  const alarms = (v: ValidationScore) => Math.round(v.falseAlarmRate * heldOut.length);
  return {
    model: verdict.better ? candidate : current,
    swapped: verdict.better,
    currentAlarms: alarms(verdict.current),
    candidateAlarms: alarms(verdict.candidate),
    validationRows: heldOut.length,
    current: verdict.current,
    candidate: verdict.candidate,
  };
}
