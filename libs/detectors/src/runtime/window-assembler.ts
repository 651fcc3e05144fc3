export interface AssemblerOptions {
  /** Metrics of one row, in the model's feature order. */
  metrics: readonly string[];
  /** Resampling step: each row is the mean of a device's samples in [k*step, (k+1)*step). */
  stepMs: number;
  windowLength: number;
  /** A step is closed once the device's newest event time is this far past its end; later samples are late. */
  allowedLatenessMs: number;
  /** A metric (or a whole step) missing for up to this many steps repeats its last value; longer gaps restart the window. */
  maxFillSteps: number;
}

export interface SampleInput {
  deviceId: string;
  metric: string;
  timestampMs: number;
  value: number | null;
}

export interface AssembledRow {
  startMs: number;
  values: number[];
}

export interface AssembledWindow {
  deviceId: string;
  /** Start of the first step and end (exclusive) of the last step of the window. */
  startMs: number;
  endMs: number;
  rows: number[][];
}

export interface AssemblerStats {
  late: number;
  gaps: number;
  ignored: number;
}

interface Bucket {
  /** Per metric (feature order): sum and count of the step's samples. */
  sums: Float64Array;
  counts: Uint32Array;
}

interface DeviceState {
  /** Open steps by start time. */
  open: Map<number, Bucket>;
  /** The open step the last sample went to (most samples go to the newest step): skips the map lookup. */
  lastStep: number;
  lastBucket: Bucket | undefined;
  /** Start of the oldest open step: nothing closes before the watermark passes its end. */
  oldestOpen: number;
  watermarkMs: number;
  /** Start of the next step to close: nothing before it is accepted any more. */
  nextStepMs: number | undefined;
  /** Per metric, the last closed value and how many steps it has been repeated (-1: none). */
  lastValue: Float64Array;
  lastAge: Int32Array;
  rows: AssembledRow[];
}

const NONE: readonly AssembledWindow[] = Object.freeze([]);

/**
 * Turns per-device, per-metric samples into fixed-step rows and sliding windows in event time. Each device
 * has its own watermark (its newest sample time minus the allowed lateness), because devices' clocks and
 * delays differ; a step closes when the watermark passes its end, and a sample for a closed step is counted
 * as late and dropped, so emitted windows never change. Short gaps are filled with the last value, long
 * ones restart the window rather than feed the model invented data.
 *
 * This runs once per record (100k records/s at 10,000 devices x 10 metrics at 1 Hz): a sample costs two
 * map lookups and two typed-array writes, and steps are only looked at when the watermark passes the
 * oldest open one.
 */
export class WindowAssembler {
  private readonly devices = new Map<string, DeviceState>();
  private readonly index: Map<string, number>;
  private readonly width: number;
  readonly stats: AssemblerStats = { late: 0, gaps: 0, ignored: 0 };

  constructor(private readonly options: AssemblerOptions) {
    this.index = new Map(options.metrics.map((m, i) => [m, i]));
    this.width = options.metrics.length;
  }

  /** Adds one sample; returns the windows completed by the steps it closed, oldest first (do not modify). */
  add(sample: SampleInput): readonly AssembledWindow[] {
    const i = this.index.get(sample.metric);
    const value = sample.value;
    if (i === undefined || value === null || !Number.isFinite(value)) {
      this.stats.ignored++;
      return NONE;
    }
    const state = this.state(sample.deviceId);
    const { stepMs, allowedLatenessMs } = this.options;
    const step = Math.floor(sample.timestampMs / stepMs) * stepMs;
    let bucket: Bucket | undefined;
    if (step === state.lastStep && state.lastBucket) {
      bucket = state.lastBucket;
    } else {
      if (state.nextStepMs !== undefined && step < state.nextStepMs) {
        this.stats.late++;
        return NONE;
      }
      bucket = state.open.get(step);
      if (!bucket) {
        bucket = { sums: new Float64Array(this.width), counts: new Uint32Array(this.width) };
        state.open.set(step, bucket);
        if (step < state.oldestOpen) state.oldestOpen = step;
      }
      state.lastStep = step;
      state.lastBucket = bucket;
    }
    bucket.sums[i]! += value;
    bucket.counts[i]!++;
    const watermark = sample.timestampMs - allowedLatenessMs;
    if (watermark > state.watermarkMs) state.watermarkMs = watermark;
    if (state.oldestOpen + stepMs > state.watermarkMs) return NONE;
    return this.close(sample.deviceId, state, state.watermarkMs);
  }

  /** Closes every open step of a device (end of a replay, shutdown) and returns what that completes. */
  flush(deviceId: string): readonly AssembledWindow[] {
    const state = this.devices.get(deviceId);
    if (!state) return NONE;
    return this.close(deviceId, state, Infinity);
  }

  /** Drops a device's open steps and rows (its partition moved to another process). */
  forget(deviceId: string): void {
    this.devices.delete(deviceId);
  }

  private state(deviceId: string): DeviceState {
    let state = this.devices.get(deviceId);
    if (!state) {
      state = {
        open: new Map(),
        lastStep: Number.NaN,
        lastBucket: undefined,
        oldestOpen: Infinity,
        watermarkMs: -Infinity,
        nextStepMs: undefined,
        lastValue: new Float64Array(this.width),
        lastAge: new Int32Array(this.width).fill(-1),
        rows: [],
      };
      this.devices.set(deviceId, state);
    }
    return state;
  }

  private close(deviceId: string, state: DeviceState, watermarkMs: number): AssembledWindow[] {
    const { stepMs, maxFillSteps } = this.options;
    const ready: number[] = [];
    let oldest = Infinity;
    for (const s of state.open.keys()) {
      if (s + stepMs <= watermarkMs) ready.push(s);
      else if (s < oldest) oldest = s;
    }
    if (ready.length > 1) ready.sort((a, b) => a - b);
    state.oldestOpen = oldest;
    const windows: AssembledWindow[] = [];
    for (const step of ready) {
      // Steps without any sample since the last closed one: short runs are filled, long ones forget the past.
      const missing = state.nextStepMs === undefined ? 0 : (step - state.nextStepMs) / stepMs;
      if (missing > maxFillSteps) {
        if (state.rows.length > 0) this.stats.gaps++;
        state.rows = [];
        state.lastAge.fill(-1);
      } else {
        for (let s = step - missing * stepMs; s < step; s += stepMs)
          this.closeStep(deviceId, state, s, undefined, windows);
      }
      const bucket = state.open.get(step);
      state.open.delete(step);
      if (state.lastBucket === bucket) {
        state.lastBucket = undefined;
        state.lastStep = Number.NaN;
      }
      this.closeStep(deviceId, state, step, bucket, windows);
    }
    return windows;
  }

  private closeStep(
    deviceId: string,
    state: DeviceState,
    step: number,
    bucket: Bucket | undefined,
    windows: AssembledWindow[],
  ): void {
    const { maxFillSteps, stepMs, windowLength } = this.options;
    state.nextStepMs = step + stepMs;
    let complete = true;
    const values = new Array<number>(this.width);
    for (let i = 0; i < this.width; i++) {
      const count = bucket ? bucket.counts[i]! : 0;
      if (count > 0) {
        const value = bucket!.sums[i]! / count;
        state.lastValue[i] = value;
        state.lastAge[i] = 0;
        values[i] = value;
      } else if (state.lastAge[i]! >= 0 && state.lastAge[i]! < maxFillSteps) {
        state.lastAge[i]!++;
        values[i] = state.lastValue[i]!;
      } else {
        complete = false;
        values[i] = Number.NaN;
      }
    }
    if (!complete) {
      if (state.rows.length > 0) this.stats.gaps++;
      state.rows = [];
      return;
    }
    state.rows.push({ startMs: step, values });
    if (state.rows.length > windowLength) state.rows.shift();
    if (state.rows.length === windowLength) {
      windows.push({
        deviceId,
        startMs: state.rows[0]!.startMs,
        endMs: step + stepMs,
        rows: state.rows.map((r) => r.values),
      });
    }
  }
}
