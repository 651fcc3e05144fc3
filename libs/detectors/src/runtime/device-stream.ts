import { alignedShare, type BaselineRelations } from './baseline-relations.js';
import type { AssembledWindow } from './window-assembler.js';

export interface DeviceStreamOptions {
  stepMs: number;
  windowLength: number;
  /**
   * Time constant, in rows, of the per-metric baseline (an exponential moving average) that rows are taken
   * relative to before the model sees them; 0 feeds raw levels. Slow process drift (a bearing warming with
   * the shift, sensor calibration) then does not read as an anomaly, while changes faster than this do.
   */
  baselineTauRows: number;
  /**
   * Time constant, in rows, of the baseline's trend (Holt's linear method); 0 or absent: a plain moving
   * average. A moving average lags a steady ramp by slope x tau, so a healthy drift (demand rising over
   * half an hour) leaves a standing offset in every row that a 30-row mean reads as a fault; following the
   * trend removes that lag. A slow fault (bearing wear) is a ramp too, so the trend is followed only while
   * it moves along the device's learned relations (`relations`, `trendAlignment`); a held baseline freezes
   * level and trend alike.
   */
  baselineTrendRows?: number;
  /**
   * The share of the trend (in robust units) that must lie along the relations' direction for the baseline
   * to follow it; below it the baseline is a plain moving average and the trend's lag shows. Default 0.5.
   */
  trendAlignment?: number;
  /**
   * Robust scales (of the group model's training rows) at which one row's pull on the baseline is clipped
   * (Huber's update); 0 or absent: no clipping. Without it a glitch drags level and trend, and the offset
   * it leaves reads as a fault for minutes (under a spiking sensor the device then held its baseline for
   * good and drifted away from it).
   */
  baselineClip?: number;
}

export interface StreamRow {
  endMs: number;
  raw: number[];
  /** Raw row minus the baseline as it stood before this row: what the model is trained on and scores. */
  residual: number[];
}

export interface StreamWindow {
  /** Residual rows of the window, oldest first: the model's input. */
  rows: number[][];
  /** Rows this window added (usually one; a whole window after a gap), oldest first. */
  added: StreamRow[];
  /** Per metric, how many consecutive rows up to this window's end held exactly the same value. */
  flatRows: number[];
}

/**
 * One device's rows on their way to the model: each new row updates the device's slow baseline and
 * flat-run counters once, however many windows it later appears in. Windows from the assembler overlap and
 * restart after gaps; rows are told apart by their time, so each is counted exactly once.
 */
export class DeviceStream {
  /**
   * While set, the baseline stands still: a device in a sustained alarm (a leak opening over minutes) is
   * not re-baselined into its faulty state, so it stays flagged; healthy drift, never alarming for long,
   * is followed as before.
   */
  hold = false;
  /**
   * How the device's metrics move together in normal operation (from its group model); until it is known
   * the baseline follows no trend, whatever `baselineTrendRows` says.
   */
  relations: BaselineRelations | undefined;
  private baseline: number[] | undefined;
  private trend: number[] | undefined;
  private lastRowMs = -Infinity;
  private recent: Array<{ startMs: number; residual: number[] }> = [];
  private flat: number[] = [];
  private previous: number[] | undefined;

  constructor(private readonly options: DeviceStreamOptions) {}

  push(window: AssembledWindow): StreamWindow {
    const { stepMs, windowLength, baselineTauRows } = this.options;
    const added: StreamRow[] = [];
    window.rows.forEach((raw, i) => {
      const startMs = window.startMs + i * stepMs;
      if (startMs <= this.lastRowMs) return;
      this.lastRowMs = startMs;
      // Across a gap the last value is no longer "the same reading": the flat run starts over.
      const contiguous = this.recent.at(-1)?.startMs === startMs - stepMs;
      this.flat = raw.map((v, f) => (contiguous && this.previous?.[f] === v ? (this.flat[f] ?? 0) + 1 : 1));
      this.previous = raw;
      this.baseline ??= [...raw];
      const trendRows = this.options.baselineTrendRows ?? 0;
      if (trendRows > 0) this.trend ??= raw.map(() => 0);
      const trend = this.trend;
      // The baseline's forecast for this row: its level, plus its trend while the trend moves the metrics
      // the way normal operation does. The trend is estimated either way (a moving average has the ramp's
      // slope too, only late), so it is ready when the drift turns out to be healthy.
      const follow =
        trend !== undefined &&
        this.relations !== undefined &&
        alignedShare(
          trend.map((t, f) => t / this.relations!.scale[f]!),
          this.relations.direction,
        ) >= (this.options.trendAlignment ?? 0.5);
      const expected = follow ? this.baseline.map((b, f) => b + trend[f]!) : this.baseline;
      const residual = baselineTauRows > 0 ? raw.map((v, f) => v - expected[f]!) : [...raw];
      if (baselineTauRows > 0 && !this.hold) {
        const a = 1 / baselineTauRows;
        // A glitch (one sample far off) must not drag level and trend: each metric's step is clipped at
        // `baselineClip` robust scales (a Huber-type update) once the relations give those scales.
        const clip = this.options.baselineClip ?? 0;
        const scale = this.relations?.scale;
        const innov = (f: number, e: number) => {
          const d = raw[f]! - e;
          if (!(clip > 0) || !scale) return d;
          return Math.max(-clip * scale[f]!, Math.min(clip * scale[f]!, d));
        };
        const level = expected.map((e, f) => e + a * innov(f, e));
        if (trend) {
          const b = 1 / trendRows;
          for (let f = 0; f < level.length; f++)
            trend[f] = trend[f]! + b * (level[f]! - this.baseline[f]! - trend[f]!);
        }
        this.baseline = level;
      }
      this.recent.push({ startMs, residual });
      if (this.recent.length > windowLength) this.recent.shift();
      added.push({ endMs: startMs + stepMs, raw, residual });
    });
    const rows = this.recent.filter((r) => r.startMs >= window.startMs).map((r) => r.residual);
    return { rows, added, flatRows: [...this.flat] };
  }
}
