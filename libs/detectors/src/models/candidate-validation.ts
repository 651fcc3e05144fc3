import { robustLocationScale } from './robust-scale.util.js';

/** Per row of a series, whether a model alarms on it (rows before its first full window: false). */
export type AlarmScorer = (rows: readonly (readonly number[])[]) => boolean[];

/** How one model did on the held-out recent rows. */
export interface ValidationScore {
  /** Share of the clean held-out rows it alarmed on. */
  falseAlarmRate: number;
  /**
   * Per metric, its alarm rate on the held-out rows with that metric offset by `offsetScales` robust
   * scales, less its alarm rate on the clean rows: how much of an injected fault it sees beyond its noise.
   */
  detection: number[];
  /** Mean detection over the metrics: what candidates are compared on. */
  meanDetection: number;
  /** Metrics whose injected offset it detects (detection at least `detectedAt`), for reports. */
  detected: number;
}

export interface ValidationOptions {
  /** Size of the injected fault, in robust scales (1.4826 x MAD) of each metric over the held-out rows. */
  offsetScales: number;
  /** Detection above which an injected fault counts as caught (reported only). */
  detectedAt: number;
  /** A candidate may alarm on this much larger a share of clean rows and still be preferred. */
  falseAlarmSlack: number;
  /** ... and may detect this much less of the injected faults (both are rates in [0, 1]). */
  detectionSlack: number;
}

export const defaultValidationOptions: ValidationOptions = {
  offsetScales: 4,
  detectedAt: 0.5,
  falseAlarmSlack: 0.005,
  detectionSlack: 0.05,
};

export interface CandidateVerdict {
  current: ValidationScore;
  candidate: ValidationScore;
  /** Whether the candidate should replace the model in use. */
  better: boolean;
  rows: number;
}

/**
 * Compares a candidate model with the one in use on recent rows neither was fitted on. Fewer false alarms
 * alone would prefer a model that never alarms (fitted on a noisy stretch, with wide scales), so each
 * metric is also offset in turn by a few of its robust scales, a synthetic fault whose size is measured on
 * the held-out rows themselves, and the candidate must catch about as much of these as the model in use.
 * A model that alarms everywhere catches none: detection counts only alarms beyond its clean-row rate.
 */
export function validateCandidate(
  current: AlarmScorer,
  candidate: AlarmScorer,
  heldOut: readonly (readonly number[])[],
  options: Partial<ValidationOptions> = {},
): CandidateVerdict {
  const o = { ...defaultValidationOptions, ...options };
  if (heldOut.length === 0) throw new Error('no held-out rows to validate on');
  const d = heldOut[0]!.length;
  const scales = Array.from(
    { length: d },
    (_, f) =>
      robustLocationScale(
        heldOut.map((r) => r[f]!),
        0.005,
      ).scale,
  );
  const injected = scales.map((s, f) =>
    heldOut.map((r) => r.map((v, g) => (g === f ? v + o.offsetScales * s : v))),
  );
  const score = (model: AlarmScorer): ValidationScore => {
    const rate = (rows: readonly (readonly number[])[]) => {
      const alarms = model(rows);
      return alarms.filter(Boolean).length / alarms.length;
    };
    const falseAlarmRate = rate(heldOut);
    const detection = injected.map((rows) => rate(rows) - falseAlarmRate);
    return {
      falseAlarmRate,
      detection,
      meanDetection: detection.reduce((a, b) => a + b, 0) / detection.length,
      detected: detection.filter((x) => x >= o.detectedAt).length,
    };
  };
  const cur = score(current);
  const cand = score(candidate);
  return {
    current: cur,
    candidate: cand,
    better:
      cand.falseAlarmRate <= cur.falseAlarmRate + o.falseAlarmSlack &&
      cand.meanDetection >= cur.meanDetection - o.detectionSlack,
    rows: heldOut.length,
  };
}
