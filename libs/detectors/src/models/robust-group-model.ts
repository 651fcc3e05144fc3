import { createHash } from 'node:crypto';
import { quantile } from '../stats.util.js';
import { invertSymmetric } from './linear-algebra.util.js';
import { robustLocationScale } from './robust-scale.util.js';

/**
 * Settings of the statistical group model. They were fixed before the SKAB run that the README reports
 * and are not fitted to any test rows; `margin` is the one operating point, derived from held-out normal
 * data (see `calibrateMargin`).
 */
export interface RobustGroupOptions {
  /** Rows in the trailing mean each member scores: SKAB-like faults are sustained, single-row noise is not. */
  smoothRows: number;
  /** Contiguous blocks of the training rows; each is scored by a model fitted on the others (out of fold). */
  folds: number;
  /** Added to the covariance diagonal (robust-z units) so a channel that barely moved in training cannot dominate. */
  ridge: number;
  /**
   * For the level member, a change smaller than this fraction of a channel's typical level is not
   * meaningful (a fluid warming by a tenth of a degree); it bounds the scale of quiet channels from below.
   */
  relativeFloor: number;
  /** Each member's score is divided by this quantile of its out-of-fold training scores. */
  quantile: number;
  /** Alarm when the fused score exceeds this multiple of normal out-of-fold behaviour. */
  margin: number;
  /**
   * How many principal directions of the training rows (their smoothed means, in each member's units)
   * both members leave out: the ways the metrics move together in normal operation. On a machine the first
   * is its load (flow, head and current rising and falling with demand), so a change of operating point
   * along it is not scored, while a metric leaving that relation (head falling as flow rises, vibration
   * rising alone) still is. 0: every direction is scored (the SKAB setting).
   */
  relationDirections: number;
}

export const defaultRobustGroupOptions: RobustGroupOptions = {
  smoothRows: 30,
  folds: 4,
  ridge: 0.1,
  relativeFloor: 0.005,
  quantile: 0.99,
  // Derived with `calibrateMargin` on SKAB's anomaly-free recording (normal data the protocol never
  // scores: 8 pieces of 1,141 rows, 400 fitted) as the smallest margin on a 0.25 grid with at most 10 %
  // false alarms (8.57 %); `sentio detect skab` re-derives and prints it.
  margin: 1.75,
  relationDirections: 0,
};

/**
 * Relations a refit keeps from the model it may replace, with how sure they are: learned on the full
 * training rows, where the machine's load moved, rather than on a quiet stretch whose strongest direction
 * may be sensor drift.
 */
export interface FixedRelations {
  correlation?: RelationEstimate;
  level?: RelationEstimate;
}

/** A member's relations (unit vectors in its units) and the standard error of each of their components. */
export interface RelationEstimate {
  relations?: number[][];
  spread?: number[][];
}

/** What a fit may be told beyond its rows. */
export interface FitContext {
  relations?: FixedRelations;
}

/** The members of the fusion, each reported on its own beside it. */
export const groupMembers = ['correlation', 'level'] as const;
export type GroupMember = (typeof groupMembers)[number];

export interface GroupScore {
  /** Geometric mean of the members' normalised scores: 1 is a high-normal (quantile) value of both. */
  raw: number;
  /** 1 - 2^-(raw / margin)^2: 0 for a perfectly normal row, 0.5 at the alarm threshold, towards 1 beyond. */
  calibrated: number;
  anomalous: boolean;
  /** Each member's normalised score (same units as raw). */
  members: Record<GroupMember, number>;
  /** Each feature's share of the level member's score (they sum to 1). */
  contributions: number[];
  /**
   * The fast change statistic (mean of the last CHANGE_SHORT rows against the CHANGE_LONG rows before
   * them, in the same normalised units): a regime change, into or out of an anomaly, as it happens.
   */
  change: number;
  /** A changepoint is reported at this row (change above the margin, at most one per CHANGE_LONG rows). */
  changepoint: boolean;
}

/**
 * Standard errors of a relation's components that a move along it beyond the training rows' may leave off
 * it before that counts as the metrics leaving the relation (about 95 % of a normal error's spread).
 */
const SPREAD_BAND = 2;

/** Rows of the recent and of the reference mean of the change statistic. */
const CHANGE_SHORT = 5;
const CHANGE_LONG = 30;

export interface RobustGroupState {
  format: 1;
  kind: 'robust-group';
  modelVersion: string;
  features: string[];
  options: RobustGroupOptions;
  center: number[];
  scale: number[];
  levelScale: number[];
  correlation: Relational & { inverse: number[][] };
  /** Each member's `relations`: unit vectors (its own units) it projects out, strongest first. */
  level: Relational;
  normalisers: Record<GroupMember, number>;
  /** The change statistic's quantile over the training rows (it has no parameters to fit: in-sample is held-out). */
  changeNormaliser: number;
  trainingRows: number;
  /**
   * Out-of-fold fused scores: the held-out distribution the threshold comes from; their mean is the
   * typical score of normal rows, against which the runtime measures drift.
   */
  heldOut: { rows: number; quantile: number; mean?: number };
}

/**
 * A robust statistical model of a group of metrics (one machine's sensors, or one value column): rows are
 * put in robust units (median / MAD of the training rows), averaged over the last `smoothRows` rows, and
 * scored by two members: `correlation`, the Mahalanobis distance under the training covariance, which sees
 * metrics leaving their joint pattern, and `level`, the mean squared robust deviation per metric, which
 * sees any metric leaving its level. Their scores are normalised by their own out-of-fold training
 * quantile (each training block scored by a model that did not see it) and fused by geometric mean, so
 * an alarm needs both to agree that the row is unusual. Fitting is closed-form: milliseconds per device.
 */
export class RobustGroupModel {
  private constructor(readonly state: RobustGroupState) {}

  static fit(
    features: readonly string[],
    rows: readonly (readonly number[])[],
    options: Partial<RobustGroupOptions> = {},
    context: FitContext = {},
  ): RobustGroupModel {
    const { relations } = context;
    const o = { ...defaultRobustGroupOptions, ...options };
    const d = features.length;
    if (rows.some((r) => r.length !== d)) throw new Error(`every row needs ${d} values`);
    const smooth = Math.max(1, Math.min(o.smoothRows, Math.floor(rows.length / 4)));
    if (rows.length < smooth + 8)
      throw new Error(`need at least ${smooth + 8} training rows, got ${rows.length}`);
    const columns = features.map((_, f) => rows.map((r) => r[f]!));
    const plain = columns.map((c) => robustLocationScale(c, 0));
    const floored = columns.map((c) => robustLocationScale(c, o.relativeFloor));
    const center = plain.map((p) => p.center);
    const scale = plain.map((p) => p.scale);
    const levelScale = floored.map((p) => p.scale);
    const zA = smoothRows(
      rows.map((r) => r.map((v, f) => (v - center[f]!) / scale[f]!)),
      smooth,
    );
    const zB = smoothRows(
      rows.map((r) => r.map((v, f) => (v - center[f]!) / levelScale[f]!)),
      smooth,
    );
    // Rows before the first full smoothing window average fewer rows: noisier, left out of fitting.
    const usable = Array.from({ length: rows.length - smooth + 1 }, (_, i) => i + smooth - 1);
    const folds = Math.max(2, Math.min(o.folds, Math.floor(usable.length / (4 * smooth))));
    // Both members fitted on some of the usable rows: out of fold for the normalisers, then on all of them.
    const fitMembers = (idx: number[]) => ({
      corr: fitCorrelation(
        idx.map((i) => zA[i]!),
        o.ridge,
        o.relationDirections,
        relations?.correlation,
      ),
      lvl: relational(
        idx.map((i) => zB[i]!),
        o.relationDirections,
        relations?.level,
      ),
    });
    const { corr: correlation, lvl: level } = fitMembers(usable);
    const heldOutFolds: Array<{ members: ReturnType<typeof fitMembers>; heldIdx: number[] }> = [];
    for (let k = 0; k < folds; k++) {
      const lo = Math.floor((k * usable.length) / folds);
      const hi = Math.floor(((k + 1) * usable.length) / folds);
      // A gap of one smoothing window each side: smoothed rows there share raw rows with the held-out block.
      const fitIdx = usable.filter((_, j) => j < lo - smooth || j >= hi + smooth);
      if (fitIdx.length < d + 2) continue;
      heldOutFolds.push({ members: fitMembers(fitIdx), heldIdx: usable.slice(lo, hi) });
    }
    const oofA: number[] = [];
    const oofB: number[] = [];
    for (const { members, heldIdx } of heldOutFolds)
      for (const i of heldIdx) {
        oofA.push(scoreCorrelation(members.corr, zA[i]!));
        oofB.push(scoreLevel(members.lvl, zB[i]!).score);
      }
    // How sure each relation is: learned ones from how much the folds' relations differ (a block
    // jackknife), kept ones from the model that learned them. Only the fitted model discounts with it:
    // the folds' scores are the calibration of moves within the training rows' range, error included.
    const spreadA =
      relations?.correlation?.spread ??
      jackknifeSpread(
        correlation.relations,
        heldOutFolds.map((f) => f.members.corr.relations),
      );
    const spreadB =
      relations?.level?.spread ??
      jackknifeSpread(
        level.relations,
        heldOutFolds.map((f) => f.members.lvl.relations),
      );
    if (spreadA) correlation.spread = spreadA.map((s) => [...s]);
    if (spreadB) level.spread = spreadB.map((s) => [...s]);
    // A member that never moved out of fold (a constant training slice) keeps a unit normaliser rather
    // than 0: the scales' floors already say how big a meaningful change is.
    const normaliser = (xs: number[]) => {
      const q = xs.length > 0 ? quantile(xs, o.quantile) : 0;
      return q > 1e-9 ? q : 1;
    };
    const normalisers = { correlation: normaliser(oofA), level: normaliser(oofB) };
    const changes = changeSeries(rows.map((r) => r.map((v, f) => (v - center[f]!) / levelScale[f]!))).filter(
      (c) => c !== undefined,
    );
    const changeNormaliser = normaliser(changes as number[]);
    const fusedHeldOut = oofA.map((a, i) =>
      Math.sqrt((a / normalisers.correlation) * (oofB[i]! / normalisers.level)),
    );
    const state: RobustGroupState = {
      format: 1,
      kind: 'robust-group',
      modelVersion: '',
      features: [...features],
      options: { ...o, smoothRows: smooth },
      center,
      scale,
      levelScale,
      correlation,
      level,
      normalisers,
      changeNormaliser,
      trainingRows: rows.length,
      heldOut: {
        rows: fusedHeldOut.length,
        quantile: fusedHeldOut.length > 0 ? quantile(fusedHeldOut, o.quantile) : Number.NaN,
        mean:
          fusedHeldOut.length > 0
            ? fusedHeldOut.reduce((a, b) => a + b, 0) / fusedHeldOut.length
            : Number.NaN,
      },
    };
    state.modelVersion = createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 12);
    return new RobustGroupModel(state);
  }

  static from(state: RobustGroupState): RobustGroupModel {
    if (state.kind !== 'robust-group' || state.format !== 1)
      throw new Error(`not a robust-group model state (${String(state.kind)} ${String(state.format)})`);
    return new RobustGroupModel(state);
  }

  get features(): readonly string[] {
    return this.state.features;
  }

  get margin(): number {
    return this.state.options.margin;
  }

  /** A row-by-row scorer holding the trailing smoothing window: what a device keeps between records. */
  scorer(options: { margin?: number } = {}): GroupScorer {
    return new GroupScorer(this.state, options.margin ?? this.state.options.margin);
  }

  /** Scores every row of a series in order (rows before the first full window are scored on fewer rows). */
  scoreSeries(rows: readonly (readonly number[])[], options: { margin?: number } = {}): GroupScore[] {
    const s = this.scorer(options);
    return rows.map((r) => s.push(r));
  }
}

/** Running state of one device's group: the last `smoothRows` rows in robust units and their sums. */
export class GroupScorer {
  private readonly ringA: Float64Array;
  private readonly ringB: Float64Array;
  private readonly sumA: Float64Array;
  private readonly sumB: Float64Array;
  private count = 0;
  private readonly recentB: number[][] = [];
  private lastChangepoint = -Infinity;
  private readonly d: number;
  private readonly smooth: number;

  constructor(
    private readonly state: RobustGroupState,
    private readonly margin: number,
  ) {
    this.d = state.features.length;
    this.smooth = state.options.smoothRows;
    this.ringA = new Float64Array(this.d * this.smooth);
    this.ringB = new Float64Array(this.d * this.smooth);
    this.sumA = new Float64Array(this.d);
    this.sumB = new Float64Array(this.d);
  }

  push(row: readonly number[]): GroupScore {
    const { d, smooth, state } = this;
    const slot = (this.count % smooth) * d;
    const full = this.count >= smooth;
    for (let f = 0; f < d; f++) {
      const a = (row[f]! - state.center[f]!) / state.scale[f]!;
      const b = (row[f]! - state.center[f]!) / state.levelScale[f]!;
      if (full) {
        this.sumA[f]! -= this.ringA[slot + f]!;
        this.sumB[f]! -= this.ringB[slot + f]!;
      }
      this.ringA[slot + f] = a;
      this.ringB[slot + f] = b;
      this.sumA[f]! += a;
      this.sumB[f]! += b;
    }
    this.count++;
    this.recentB.push(row.map((v, f) => (v - state.center[f]!) / state.levelScale[f]!));
    if (this.recentB.length > CHANGE_SHORT + CHANGE_LONG) this.recentB.shift();
    const n = Math.min(this.count, smooth);
    const zA = Array.from(this.sumA, (s) => s / n);
    const zB = Array.from(this.sumB, (s) => s / n);
    const correlation = scoreCorrelation(state.correlation, zA) / state.normalisers.correlation;
    const lvl = scoreLevel(state.level, zB);
    const level = lvl.score / state.normalisers.level;
    const raw = Math.sqrt(correlation * level);
    const calibrated = 1 - 2 ** -((raw / this.margin) ** 2);
    const change =
      this.recentB.length === CHANGE_SHORT + CHANGE_LONG
        ? changeAt(this.recentB, this.recentB.length - 1)! / state.changeNormaliser
        : 0;
    const changepoint = change > this.margin && this.count - this.lastChangepoint > CHANGE_LONG;
    if (changepoint) this.lastChangepoint = this.count;
    return {
      change,
      changepoint,
      raw,
      calibrated,
      anomalous: raw > this.margin,
      members: { correlation, level },
      contributions: lvl.contributions,
    };
  }
}

/** The change statistic at each row (undefined until enough rows came before it). */
function changeSeries(rows: number[][]): Array<number | undefined> {
  return rows.map((_, i) => changeAt(rows, i));
}

/** Mean squared difference per metric between the last CHANGE_SHORT rows up to i and the CHANGE_LONG before. */
function changeAt(rows: readonly (readonly number[])[], i: number): number | undefined {
  if (i < CHANGE_SHORT + CHANGE_LONG - 1) return undefined;
  const d = rows[i]!.length;
  let total = 0;
  for (let f = 0; f < d; f++) {
    let recent = 0;
    let before = 0;
    for (let k = 0; k < CHANGE_SHORT; k++) recent += rows[i - k]![f]!;
    for (let k = CHANGE_SHORT; k < CHANGE_SHORT + CHANGE_LONG; k++) before += rows[i - k]![f]!;
    total += (recent / CHANGE_SHORT - before / CHANGE_LONG) ** 2;
  }
  return total / d;
}

/** A window ending at row i of `rows` averaged per column, over the available rows at the start. */
function smoothRows(rows: number[][], w: number): number[][] {
  const d = rows[0]?.length ?? 0;
  const sum = new Array<number>(d).fill(0);
  return rows.map((r, i) => {
    for (let f = 0; f < d; f++) {
      sum[f]! += r[f]!;
      if (i >= w) sum[f]! -= rows[i - w]![f]!;
    }
    const n = Math.min(i + 1, w);
    return sum.map((s) => s / n);
  });
}

function fitCorrelation(
  rows: number[][],
  ridge: number,
  directions: number,
  fixed: RelationEstimate | undefined,
): Relational & { inverse: number[][] } {
  const d = rows[0]!.length;
  const found = relational(rows, directions, fixed);
  // The covariance of the rows as they are: the relations' spread discounts only moves beyond them.
  const dev = rows.map((r) => deviation(r, { mean: found.mean, relations: found.relations }));
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const r of dev)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) cov[i]![j]! += (r[i]! * r[j]!) / (rows.length - 1);
  for (let i = 0; i < d; i++) cov[i]![i]! += ridge;
  return { ...found, inverse: invertSymmetric(cov) };
}

function scoreCorrelation(m: Relational & { inverse: number[][] }, z: readonly number[]): number {
  const dev = deviation(z, m);
  const d = z.length;
  let s = 0;
  for (let i = 0; i < d; i++) {
    const row = m.inverse[i]!;
    for (let j = 0; j < d; j++) s += dev[i]! * row[j]! * dev[j]!;
  }
  return Math.max(0, s) / d;
}

/** A member's centre, and the directions of normal joint movement it leaves out (unit vectors). */
interface Relational extends RelationEstimate {
  mean: number[];
  /** Per relation: the largest move along it among the fitted rows (their calibration covered up to it). */
  alongRange?: number[];
}

/**
 * The mean of the rows and, for directions > 0, the leading principal directions of their covariance (or
 * the `fixed` ones a refit keeps), with how far the rows moved along them.
 */
function relational(rows: number[][], directions: number, fixed: RelationEstimate | undefined): Relational {
  const d = rows[0]!.length;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let f = 0; f < d; f++) mean[f]! += r[f]! / rows.length;
  if (directions <= 0) return { mean };
  let found: Relational;
  if (fixed?.relations) {
    found = { mean, relations: fixed.relations.map((u) => [...u]) };
  } else {
    const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (const r of rows)
      for (let i = 0; i < d; i++)
        for (let j = 0; j < d; j++) cov[i]![j]! += ((r[i]! - mean[i]!) * (r[j]! - mean[j]!)) / rows.length;
    found = { mean, relations: principalDirections(cov, Math.min(directions, d - 1)) };
  }
  const alongRange = found.relations!.map(() => 0);
  for (const r of rows)
    deviation(r, found, (j, along) => {
      alongRange[j] = Math.max(alongRange[j]!, Math.abs(along));
    });
  found.alongRange = alongRange;
  return found;
}

/**
 * How sure each component of each relation is: the block-jackknife standard error over the fold fits
 * (each left one contiguous block out), signs aligned with the full fit's. Undefined without relations or
 * with fewer than two folds.
 */
function jackknifeSpread(
  full: number[][] | undefined,
  folds: Array<number[][] | undefined>,
): number[][] | undefined {
  if (!full || folds.length < 2) return undefined;
  return full.map((u, j) => {
    const aligned = folds.map((fold) => {
      const v = fold?.[j] ?? u;
      return v.reduce((s, x, f) => s + x * u[f]!, 0) < 0 ? v.map((x) => -x) : v;
    });
    const k = aligned.length;
    return u.map((_, f) => {
      const mean = aligned.reduce((s, v) => s + v[f]!, 0) / k;
      return Math.sqrt(((k - 1) / k) * aligned.reduce((s, v) => s + (v[f]! - mean) ** 2, 0));
    });
  });
}

/**
 * A row's deviation from the centre with its components along the relations removed (each one's size is
 * handed to `along`). A relation learned from minutes of rows is known only so well (`spread`): a move of
 * size a along it leaves about a x spread off it in each metric even when the machine only did more of
 * what it always does (a pump's vibration rises with its load, but in its noise that share is barely seen
 * in a few minutes of training). For moves as large as the fitted rows' the out-of-fold calibration saw
 * that error; beyond `alongRange`, what the excess could leave off the relation (SPREAD_BAND standard
 * errors) is taken off each metric's deviation. A fault leaving the relation by more than that (a leak's
 * head falling as its flow rises) keeps the rest, one with little move along it is scored as before.
 */
function deviation(
  z: readonly number[],
  m: Relational,
  along?: (relation: number, size: number) => void,
): number[] {
  let dev = z.map((v, f) => v - m.mean[f]!);
  let error: number[] | undefined;
  (m.relations ?? []).forEach((u, j) => {
    const a = dev.reduce((s, x, f) => s + x * u[f]!, 0);
    dev = dev.map((x, f) => x - a * u[f]!);
    along?.(j, a);
    const spread = m.spread?.[j];
    const beyond = Math.abs(a) - (m.alongRange?.[j] ?? Infinity);
    if (!spread || !(beyond > 0)) return;
    error ??= z.map(() => 0);
    for (let f = 0; f < dev.length; f++) error[f]! += (beyond * spread[f]!) ** 2;
  });
  if (!error) return dev;
  const e = error;
  return dev.map((x, f) => {
    const band = SPREAD_BAND * Math.sqrt(e[f]!);
    return Math.sign(x) * Math.max(0, Math.abs(x) - band);
  });
}

/** The k leading eigenvectors of a covariance matrix (power iteration with deflation). */
function principalDirections(cov: number[][], k: number): number[][] {
  const d = cov.length;
  const m = cov.map((row) => [...row]);
  const out: number[][] = [];
  for (let n = 0; n < k; n++) {
    let v = Array.from({ length: d }, (_, i) => 1 / Math.sqrt(d) + i * 1e-3);
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const next = m.map((row) => row.reduce((s, c, j) => s + c * v[j]!, 0));
      const norm = Math.hypot(...next);
      if (!(norm > 1e-12)) return out;
      v = next.map((x) => x / norm);
      lambda = norm;
    }
    out.push(v);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m[i]![j]! -= lambda * v[i]! * v[j]!;
  }
  return out;
}

function scoreLevel(m: Relational, z: readonly number[]): { score: number; contributions: number[] } {
  const parts = deviation(z, m).map((v) => v ** 2);
  const total = parts.reduce((a, b) => a + b, 0);
  return {
    score: total / z.length,
    contributions: parts.map((p) => (total > 0 ? p / total : 1 / z.length)),
  };
}
