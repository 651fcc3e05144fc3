/** Pooled confusion counts of point-wise anomaly labels. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BinaryMetrics extends Confusion {
  f1: number;
  /** False alarm rate, %: FP / (FP + TN). */
  far: number;
  /** Missed alarm rate, %: FN / (FN + TP). */
  mar: number;
}

export function confusion(labels: readonly number[], predicted: readonly number[]): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  labels.forEach((label, i) => {
    const p = predicted[i] === 1;
    if (label === 1) {
      if (p) c.tp++;
      else c.fn++;
    } else if (p) c.fp++;
    else c.tn++;
  });
  return c;
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, tn: a.tn + b.tn, fn: a.fn + b.fn };
}

/** SKAB's definitions (tsad chp_score, metric='binary'): F1 = TP / (TP + (FN + FP) / 2). */
export function binaryMetrics(c: Confusion): BinaryMetrics {
  return {
    ...c,
    f1: c.tp / (c.tp + (c.fn + c.fp) / 2) || 0,
    far: (100 * c.fp) / (c.fp + c.tn) || 0,
    mar: (100 * c.fn) / (c.fn + c.tp) || 0,
  };
}

/**
 * Predicted changepoints from predicted point labels, as the SKAB notebooks derive them: |diff| of the label
 * series, with the first point taken as is (a series that starts anomalous starts with a changepoint).
 */
export function labelsToChangepoints(predicted: readonly number[]): number[] {
  return predicted.map((p, i) => (i === 0 ? p : Math.abs(p - predicted[i - 1]!)));
}

export interface NabProfile {
  tp: number;
  fp: number;
  fn: number;
}

export const nabProfiles = {
  standard: { tp: 1, fp: -0.11, fn: -1 },
  lowFp: { tp: 1, fp: -0.22, fn: -1 },
  lowFn: { tp: 1, fp: -0.11, fn: -2 },
} as const satisfies Record<string, NabProfile>;

export type NabProfileName = keyof typeof nabProfiles;

export interface NabSeries {
  timestampsMs: readonly number[];
  /** True changepoints, 0/1 per row. */
  changepoints: readonly number[];
  /** Predicted changepoints, 0/1 per row. */
  predicted: readonly number[];
}

/** Per-profile raw score, null score (every window missed) and perfect score (every window hit at its start). */
export type NabTally = Record<NabProfileName, { score: number; nullScore: number; perfect: number }>;

/**
 * NAB as SKAB scores it (tsad `chp_score`, metric='nab', anomaly_window_destination='righter',
 * intersection_mode='cut right window', scale_func='improved', scale_koef=1, clear_anomalies_mode=True):
 * each true changepoint opens a window [cp, cp + windowMs]; a window whose later neighbour starts inside it
 * pushes that neighbour's start to its own end. Inside a window only the first detection counts, scored
 * on a tanh curve from A_tp at the window start to A_fp at its end; a window without detections scores
 * A_fn; every detection outside all windows scores A_fp.
 */
export function nabTally(series: NabSeries, windowMs: number): NabTally {
  const cps = series.timestampsMs.filter((_, i) => series.changepoints[i] === 1);
  const windows = cps.map((t) => [t, t + windowMs] as [number, number]);
  for (let i = 0; i + 1 < windows.length; i++) {
    if (windows[i]![1] >= windows[i + 1]![0]) windows[i + 1]![0] = windows[i]![1];
  }
  return nabTallyOfWindows(series.timestampsMs, windows, series.predicted, 'tanh');
}

/**
 * NAB's own layout: each run of consecutive label-1 rows is one anomaly window (NAB labels a window of
 * 10 % of the file, split over its anomalies and centred on each). The first detection in a window earns
 * NAB's scaled sigmoid of its position (0.99 at the window's start, 0 at its end); every detection
 * outside all windows costs A_fp in full (NAB discounts those just after a window; this does not).
 */
export function nabTallyOfLabelWindows(
  timestampsMs: readonly number[],
  labels: readonly number[],
  predicted: readonly number[],
): NabTally {
  const windows: Array<[number, number]> = [];
  labels.forEach((l, i) => {
    if (l !== 1) return;
    if (i > 0 && labels[i - 1] === 1) windows[windows.length - 1]![1] = timestampsMs[i]!;
    else windows.push([timestampsMs[i]!, timestampsMs[i]!]);
  });
  return nabTallyOfWindows(timestampsMs, windows, predicted, 'sigmoid');
}

function nabTallyOfWindows(
  timestampsMs: readonly number[],
  windows: ReadonlyArray<readonly [number, number]>,
  predicted: readonly number[],
  curve: 'tanh' | 'sigmoid',
): NabTally {
  const detections = timestampsMs.filter((_, i) => predicted[i] === 1);

  let falsePositives = 0;
  const firstHits: Array<{ position: number } | undefined> = windows.map(([start, end]) => {
    const hit = detections.find((t) => t >= start && t <= end);
    return hit === undefined ? undefined : { position: end > start ? (hit - start) / (end - start) : 0 };
  });
  if (windows.length === 0) falsePositives = detections.length;
  else {
    for (const t of detections) {
      const before = t < windows[0]![0];
      const after = t > windows[windows.length - 1]![1];
      const between = windows.some((w, i) => i + 1 < windows.length && t > w[1] && t < windows[i + 1]![0]);
      if (before || after || between) falsePositives++;
    }
  }
  const misses = firstHits.filter((h) => h === undefined).length;

  const tally = {} as NabTally;
  for (const [name, p] of Object.entries(nabProfiles) as [NabProfileName, NabProfile][]) {
    let score = p.fp * falsePositives + p.fn * misses;
    for (const hit of firstHits)
      if (hit) score += curve === 'tanh' ? scaledHit(hit.position, p) : p.tp * nabSigmoid(hit.position - 1);
    const best = curve === 'tanh' ? p.tp : p.tp * nabSigmoid(-1);
    tally[name] = { score, nullScore: windows.length * p.fn, perfect: windows.length * best };
  }
  return tally;
}

/** NAB's scaled sigmoid of a detection's position relative to its window's end (-1 at the start, 0 at the end). */
function nabSigmoid(y: number): number {
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

export function addNabTally(a: NabTally, b: NabTally): NabTally {
  const out = {} as NabTally;
  for (const name of Object.keys(nabProfiles) as NabProfileName[]) {
    out[name] = {
      score: a[name].score + b[name].score,
      nullScore: a[name].nullScore + b[name].nullScore,
      perfect: a[name].perfect + b[name].perfect,
    };
  }
  return out;
}

export function emptyNabTally(): NabTally {
  const zero = () => ({ score: 0, nullScore: 0, perfect: 0 });
  return { standard: zero(), lowFp: zero(), lowFn: zero() };
}

/** 100 x (S - S_null) / (S_perfect - S_null), over the tally of all files together. */
export function nabScores(tally: NabTally): Record<NabProfileName, number> {
  const out = {} as Record<NabProfileName, number>;
  for (const name of Object.keys(nabProfiles) as NabProfileName[]) {
    const { score, nullScore, perfect } = tally[name];
    out[name] = perfect === nullScore ? 0 : (100 * (score - nullScore)) / (perfect - nullScore);
  }
  return out;
}

/** tsad's my_scale sampled at 1000 points over the window, position in [0, 1] from its start. */
function scaledHit(position: number, p: NabProfile): number {
  const detail = 1000;
  const event = Math.min(detail - 1, Math.floor(position * detail));
  const x = -Math.PI / 2 + (event * Math.PI) / (detail - 1);
  const span = p.tp - p.fp;
  return ((span / 2) * -Math.tanh(x)) / Math.tanh(Math.PI / 2) + span / 2 + p.fp;
}
