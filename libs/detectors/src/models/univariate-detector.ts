import { normalCdf } from '../stats.util.js';

/**
 * Settings of the single-metric online detector, fixed before any evaluation run and never fitted per
 * series: every time constant is either absolute (a few rows) or a multiple of the warm-up length, so a
 * series sampled every second and one sampled every five minutes are treated alike.
 */
export interface UnivariateOptions {
  /** Weight of the newest value in the one-step prediction (an exponentially weighted mean). */
  predictAlpha: number;
  /** Weight of the newest value in the fast level of the shift member. */
  fastAlpha: number;
  /** Rows averaged into each member's recent score (Numenta's anomaly likelihood averages 10). */
  recentRows: number;
  /** Slow statistics (scales, member score distributions) remember about this many rows. */
  memoryRows: number;
  /** Alarm when the fused tail probability of the recent scores is below this (after a Bonferroni x3). */
  alarmProbability: number;
  /** After an alert, further alerts are held back for this many rows: one alert per incident. */
  refractoryRows: number;
}

export const defaultUnivariateOptions: UnivariateOptions = {
  predictAlpha: 0.3,
  fastAlpha: 0.25,
  recentRows: 5,
  memoryRows: 500,
  alarmProbability: 1e-4,
  refractoryRows: 100,
};

/** Derived from the warm-up length: slow memory and the alert hold-off scale with the data's own horizon. */
export function univariateOptionsFor(trainRows: number): UnivariateOptions {
  return {
    ...defaultUnivariateOptions,
    memoryRows: Math.max(100, trainRows),
    refractoryRows: Math.max(10, Math.round(trainRows / 3)),
  };
}

export const univariateMembers = ['spike', 'shift', 'spread', 'range'] as const;
export type UnivariateMember = (typeof univariateMembers)[number];

export interface UnivariateScore {
  /** -log10 of the fused tail probability: 4 is a 1-in-10,000 recent behaviour. */
  raw: number;
  /** 0.5 at the alarm probability, 1 at its square; held below 0.5 during an alert's hold-off. */
  calibrated: number;
  /** An alert starts at this row. */
  anomalous: boolean;
  /** Each member's anomaly likelihood (probability that recent behaviour is more normal than now). */
  members: Record<UnivariateMember, number>;
}

/** Exponentially weighted mean and variance. */
class Ewm {
  mean = 0;
  variance = 0;
  n = 0;
  constructor(private readonly alpha: number) {}
  push(x: number): void {
    this.n++;
    // The first values get equal weights (alpha = 1/n) so the start does not lean on the first value.
    const a = Math.max(this.alpha, 1 / this.n);
    const d = x - this.mean;
    this.mean += a * d;
    this.variance = (1 - a) * (this.variance + a * d * d);
  }
}

/**
 * An online detector for one metric, in the spirit of Numenta's anomaly likelihood: four cheap members
 * each turn the newest value into a raw surprise (`spike`: the one-step prediction error against its usual
 * size; `shift`: a fast against a slow level, a CUSUM-like change of mean; `spread`: recent against usual
 * prediction error, a change of noise; `range`: how far the value lands beyond every value learned so
 * far, in usual errors: a jump to a level never seen), then each member's
 * recent average surprise is compared with the distribution of its own past (mean and variance on a log
 * scale), giving a tail probability. The fusion is the smallest probability (x4, Bonferroni). It learns with every row (`learning`), so a new normal level is
 * absorbed after the alert; with learning off, the slow statistics are frozen after warm-up.
 */
export class UnivariateDetector {
  private predicted: number | undefined;
  private fast: number | undefined;
  private readonly slow: Ewm;
  private readonly error: Ewm;
  private readonly shortError: Ewm;
  private readonly history: Record<UnivariateMember, Ewm>;
  private readonly recent: Record<UnivariateMember, number[]>;
  private rows = 0;
  private lowest = Infinity;
  private highest = -Infinity;
  private holdUntil = -1;
  private frozen = false;

  constructor(readonly options: UnivariateOptions = defaultUnivariateOptions) {
    const slowAlpha = 1 / options.memoryRows;
    this.slow = new Ewm(slowAlpha);
    this.error = new Ewm(slowAlpha);
    this.shortError = new Ewm(1 / Math.max(5, 2 * options.recentRows));
    this.history = {
      spike: new Ewm(slowAlpha),
      shift: new Ewm(slowAlpha),
      spread: new Ewm(slowAlpha),
      range: new Ewm(slowAlpha),
    };
    this.recent = { spike: [], shift: [], spread: [], range: [] };
  }

  /** Stops updating the slow statistics (offline scoring after a fit). */
  freeze(): void {
    this.frozen = true;
  }

  /** Scores one value; `warmUp` rows update state but never alert. */
  push(value: number, warmUp = false): UnivariateScore {
    const o = this.options;
    const learn = !this.frozen || warmUp;
    this.rows++;
    const x = Number.isFinite(value) ? value : (this.predicted ?? 0);
    const predicted = this.predicted ?? x;
    const residual = x - predicted;
    // The usual size of a prediction error, floored so a perfectly flat warm-up does not make every later
    // wiggle infinitely surprising: 1e-3 of the level, or 1e-6 at level 0.
    const floor = Math.max(1e-3 * Math.abs(this.slow.mean || x), 1e-6);
    const usual = Math.max(Math.sqrt(this.error.mean ** 2 + this.error.variance), floor);
    const spike = Math.abs(residual) / usual;
    const fast = this.fast ?? x;
    const shift = Math.abs(fast - (this.slow.n > 0 ? this.slow.mean : x)) / usual;
    const spread = this.shortError.n > 0 ? this.shortError.mean / usual : 0;
    // Beyond every value learned so far, in units of the usual prediction error.
    const range = this.highest >= this.lowest ? Math.max(0, x - this.highest, this.lowest - x) / usual : 0;

    const members = {} as Record<UnivariateMember, number>;
    let smallest = 1;
    for (const [name, surprise] of [
      ['spike', spike],
      ['shift', shift],
      ['spread', spread],
      ['range', range],
    ] as const) {
      const r = this.recent[name];
      r.push(Math.log1p(surprise));
      if (r.length > o.recentRows) r.shift();
      const avg = r.reduce((a, b) => a + b, 0) / r.length;
      const h = this.history[name];
      const sd = Math.max(Math.sqrt(h.variance), 0.05);
      const likelihood = h.n < 2 ? 0.5 : normalCdf((avg - h.mean) / sd);
      members[name] = likelihood;
      smallest = Math.min(smallest, 1 - likelihood);
      // Huber's clip: an incident's own surprises must not widen what counts as usual for the next one.
      if (learn) h.push(h.n < 2 ? avg : Math.min(avg, h.mean + 3 * sd));
    }

    if (learn) {
      this.lowest = Math.min(this.lowest, x);
      this.highest = Math.max(this.highest, x);
      this.error.push(Math.abs(residual));
      this.slow.push(x);
    }
    this.shortError.push(Math.abs(residual));
    this.predicted = predicted + o.predictAlpha * residual;
    this.fast = fast + o.fastAlpha * (x - fast);

    const p = Math.max(Math.min(1, univariateMembers.length * smallest), 1e-300);
    const raw = -Math.log10(p);
    let calibrated = Math.min(1, (0.5 * raw) / -Math.log10(o.alarmProbability));
    const inHold = this.rows <= this.holdUntil;
    if (warmUp || inHold) calibrated = Math.min(calibrated, 0.499);
    const anomalous = calibrated >= 0.5;
    if (anomalous) this.holdUntil = this.rows + o.refractoryRows;
    return { raw, calibrated, anomalous, members };
  }
}
