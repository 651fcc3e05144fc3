import { refitIfBetter, type RefitDecision } from '../../models/group-refit.js';
import {
  defaultRobustGroupOptions,
  RobustGroupModel,
  type GroupScore,
  type GroupScorer,
  type RobustGroupOptions,
} from '../../models/robust-group-model.js';

export interface GroupLifecycleOptions {
  /** Feature names of a row, in order. */
  features: readonly string[];
  /** Clean rows of the full fit, after which the schedule and drift checks take over. */
  trainRows: number;
  /**
   * Cold start: the first fit comes after this many rows and is refitted on twice as many clean rows, and
   * so on, until `trainRows`; a device is scored from its first minutes. 0: the first fit is the full one.
   */
  coldStartRows: number;
  /**
   * A cold-start fit's margin is the configured one times this: scales and quantiles from a minute or two
   * of rows are rough, and a new device's first alarms should be sure ones.
   */
  coldStartMarginFactor: number;
  /** Scheduled retraining after this many rows since the last fit, all of them without an alarm; 0: off. */
  refitRows: number;
  /**
   * Drift check: over the last `driftRows` rows (none alarming) the mean fused score reached `driftRatio`
   * times the model's held-out mean; the model is then retrained on those rows early. 0: off.
   */
  driftRows: number;
  driftRatio: number;
  /** Settings of the fitted models (defaults: the SKAB-derived ones). */
  model?: Partial<RobustGroupOptions>;
}

export type LifecycleEvent =
  | { kind: 'fit'; stage: 'cold-start' | 'full'; rows: number; modelVersion: string; margin: number }
  | {
      kind: 'refit';
      reason: 'schedule' | 'drift';
      from: string;
      decision: RefitDecision;
      /** The mean fused score that triggered a drift refit, and the model's held-out mean. */
      drift?: { recentMean: number; heldOutMean: number };
    }
  | { kind: 'error'; during: 'fit' | 'refit'; error: unknown };

/**
 * Rows after the last alarm that are held back before they count as clean: a fault's first rows score
 * below the threshold while the trailing mean fills, and must not be learned as normal.
 */
const QUARANTINE_ROWS = 30;
/** The drift statistic is checked this often (rows), not on every row. */
const DRIFT_CHECK_ROWS = 60;

/**
 * The life of one robust group model over a device's (or an asset's) rows: cold start, full fit, scheduled
 * and drift-triggered retraining with validation before the swap. Rows reach training only after
 * `QUARANTINE_ROWS` more rows without an alarm, and a retrain needs its whole stretch alarm-free, so a fault
 * (a leak that stays open) is never taught as normal. Each row carries an item (the caller's row record)
 * that is handed back once the row is clean: the autoencoder trains on exactly those.
 */
export class GroupLifecycle<T> {
  model: RobustGroupModel | undefined;
  /** The verdict on the newest row, once a model exists. */
  last: GroupScore | undefined;
  /** Rows since the last alarm (of this model; the caller may reset it for other members' alarms too). */
  rowsSinceAlarm = 0;
  private scorer: GroupScorer | undefined;
  private fitted = 0;
  private nextFit: number;
  private growth: number[][] = [];
  private quarantine: Array<{ values: readonly number[]; item: T }> = [];
  private released: T[] = [];
  private recent: Array<{ values: readonly number[]; item: T; raw: number }> = [];
  /** The newest rows, alarming or not: what a newly swapped-in scorer's trailing mean starts from. */
  private tail: Array<readonly number[]> = [];
  private rowsSinceFit = 0;

  constructor(private readonly options: GroupLifecycleOptions) {
    this.nextFit =
      options.coldStartRows > 0 ? Math.min(options.coldStartRows, options.trainRows) : options.trainRows;
  }

  /** Whether the model in use came from fewer rows than `trainRows` (or there is none yet). */
  get coldStart(): boolean {
    return this.fitted < this.options.trainRows;
  }

  /** Scores one row (once a model exists) and fits or retrains when due; returns what happened, if anything. */
  push(values: readonly number[], item: T): LifecycleEvent | undefined {
    this.last = this.scorer?.push(values);
    this.tail.push(values);
    if (this.tail.length > QUARANTINE_ROWS) this.tail.shift();
    const alarm = this.last?.anomalous ?? false;
    if (alarm) {
      this.rowsSinceAlarm = 0;
      this.quarantine = [];
    } else {
      this.rowsSinceAlarm++;
      this.quarantine.push({ values, item });
      if (this.quarantine.length > QUARANTINE_ROWS) {
        const clean = this.quarantine.shift()!;
        this.released.push(clean.item);
        if (this.coldStart) this.growth.push([...clean.values]);
      }
    }
    if (this.coldStart) return this.grow();
    const keep = Math.max(this.options.refitRows, this.options.driftRows);
    if (keep > 0) {
      this.recent.push({ values, item, raw: this.last?.raw ?? 0 });
      if (this.recent.length > keep) this.recent.shift();
    }
    this.rowsSinceFit++;
    return this.retrainIfDue();
  }

  /** Items of rows that became clean since the last call, oldest first. */
  takeClean(): T[] {
    const out = this.released;
    this.released = [];
    return out;
  }

  /** Items of the newest `n` rows since the full fit (alarming ones included), oldest first. */
  recentItems(n: number): T[] {
    return this.recent.slice(-n).map((r) => r.item);
  }

  /** Fits on the clean rows so far when enough have come: cold-start fits first, then the full one. */
  private grow(): LifecycleEvent | undefined {
    if (this.growth.length < this.nextFit) return undefined;
    const full = this.nextFit >= this.options.trainRows;
    const rows = full ? this.growth.slice(-this.options.trainRows) : this.growth;
    try {
      const base = { ...this.options.model };
      const margin =
        (base.margin ?? defaultRobustGroupOptions.margin) * (full ? 1 : this.options.coldStartMarginFactor);
      const model = RobustGroupModel.fit(this.options.features, rows, { ...base, margin });
      this.swapIn(model);
      this.fitted = rows.length;
      this.nextFit = Math.min(this.nextFit * 2, this.options.trainRows);
      if (full) this.growth = [];
      return {
        kind: 'fit',
        stage: full ? 'full' : 'cold-start',
        rows: rows.length,
        modelVersion: model.state.modelVersion,
        margin: model.margin,
      };
    } catch (error) {
      // Fits again once as many new clean rows have come.
      this.nextFit = Math.min(this.growth.length * 2, this.options.trainRows);
      return { kind: 'error', during: 'fit', error };
    }
  }

  private retrainIfDue(): LifecycleEvent | undefined {
    const o = this.options;
    const current = this.model!;
    if (o.refitRows > 0 && this.rowsSinceFit >= o.refitRows && this.rowsSinceAlarm >= o.refitRows)
      return this.refit('schedule', this.recent.slice(-o.refitRows));
    if (
      o.driftRows > 0 &&
      this.rowsSinceFit >= o.driftRows &&
      this.rowsSinceAlarm >= o.driftRows &&
      this.rowsSinceFit % DRIFT_CHECK_ROWS === 0
    ) {
      const stretch = this.recent.slice(-o.driftRows);
      const recentMean = stretch.reduce((a, r) => a + r.raw, 0) / stretch.length;
      const heldOutMean = current.state.heldOut.mean ?? Number.NaN;
      if (recentMean >= o.driftRatio * heldOutMean)
        return this.refit('drift', stretch, { recentMean, heldOutMean });
    }
    return undefined;
  }

  private refit(
    reason: 'schedule' | 'drift',
    stretch: ReadonlyArray<{ values: readonly number[] }>,
    drift?: { recentMean: number; heldOutMean: number },
  ): LifecycleEvent {
    this.rowsSinceFit = 0;
    const from = this.model!.state.modelVersion;
    try {
      const rows = stretch.map((r) => r.values);
      const decision = refitIfBetter(this.model!, rows, this.options.model);
      if (decision.swapped) this.swapIn(decision.model);
      return { kind: 'refit', reason, from, decision, ...(drift ? { drift } : {}) };
    } catch (error) {
      return { kind: 'error', during: 'refit', error };
    }
  }

  private swapIn(model: RobustGroupModel): void {
    this.model = model;
    this.scorer = model.scorer();
    // The new scorer's smoothing window starts from the newest rows, not from nothing.
    for (const row of this.tail.slice(-model.state.options.smoothRows)) this.last = this.scorer.push(row);
  }
}
