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

interface DeviceState {
  /** Open steps by start time: per metric, sum and count. */
  open: Map<number, Map<string, { sum: number; count: number }>>;
  watermarkMs: number;
  /** Start of the next step to close: nothing before it is accepted any more. */
  nextStepMs: number | undefined;
  last: Array<{ value: number; age: number } | undefined>;
  rows: AssembledRow[];
}

/**
 * Turns per-device, per-metric samples into fixed-step rows and sliding windows in event time. Each device
 * has its own watermark (its newest sample time minus the allowed lateness), because devices' clocks and
 * delays differ; a step closes when the watermark passes its end, and a sample for a closed step is counted
 * as late and dropped, so emitted windows never change. Short gaps are filled with the last value, long
 * ones restart the window rather than feed the model invented data.
 */
export class WindowAssembler {
  private readonly devices = new Map<string, DeviceState>();
  private readonly index: Map<string, number>;
  readonly stats: AssemblerStats = { late: 0, gaps: 0, ignored: 0 };

  constructor(private readonly options: AssemblerOptions) {
    this.index = new Map(options.metrics.map((m, i) => [m, i]));
  }

  /** Adds one sample; returns the windows completed by the steps it closed, oldest first. */
  add(sample: SampleInput): AssembledWindow[] {
    const i = this.index.get(sample.metric);
    if (i === undefined || sample.value === null || !Number.isFinite(sample.value)) {
      this.stats.ignored++;
      return [];
    }
    const state = this.state(sample.deviceId);
    const step = Math.floor(sample.timestampMs / this.options.stepMs) * this.options.stepMs;
    if (state.nextStepMs !== undefined && step < state.nextStepMs) {
      this.stats.late++;
      return [];
    }
    let bucket = state.open.get(step);
    if (!bucket) state.open.set(step, (bucket = new Map()));
    const cell = bucket.get(sample.metric) ?? { sum: 0, count: 0 };
    cell.sum += sample.value;
    cell.count++;
    bucket.set(sample.metric, cell);
    state.watermarkMs = Math.max(state.watermarkMs, sample.timestampMs - this.options.allowedLatenessMs);
    return this.close(sample.deviceId, state, state.watermarkMs);
  }

  /** Closes every open step of a device (end of a replay, shutdown) and returns what that completes. */
  flush(deviceId: string): AssembledWindow[] {
    const state = this.devices.get(deviceId);
    if (!state) return [];
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
        watermarkMs: -Infinity,
        nextStepMs: undefined,
        last: this.options.metrics.map(() => undefined),
        rows: [],
      };
      this.devices.set(deviceId, state);
    }
    return state;
  }

  private close(deviceId: string, state: DeviceState, watermarkMs: number): AssembledWindow[] {
    const { stepMs, maxFillSteps } = this.options;
    const ready = [...state.open.keys()].filter((s) => s + stepMs <= watermarkMs).sort((a, b) => a - b);
    const windows: AssembledWindow[] = [];
    for (const step of ready) {
      // Steps without any sample since the last closed one: short runs are filled, long ones forget the past.
      const missing = state.nextStepMs === undefined ? 0 : (step - state.nextStepMs) / stepMs;
      if (missing > maxFillSteps) {
        if (state.rows.length > 0) this.stats.gaps++;
        state.rows = [];
        state.last = state.last.map(() => undefined);
      } else {
        for (let s = step - missing * stepMs; s < step; s += stepMs)
          this.closeStep(deviceId, state, s, undefined, windows);
      }
      this.closeStep(deviceId, state, step, state.open.get(step), windows);
      state.open.delete(step);
    }
    return windows;
  }

  private closeStep(
    deviceId: string,
    state: DeviceState,
    step: number,
    bucket: Map<string, { sum: number; count: number }> | undefined,
    windows: AssembledWindow[],
  ): void {
    const { metrics, maxFillSteps, stepMs, windowLength } = this.options;
    state.nextStepMs = step + stepMs;
    let complete = true;
    const values = metrics.map((metric, i) => {
      const cell = bucket?.get(metric);
      if (cell) {
        const value = cell.sum / cell.count;
        state.last[i] = { value, age: 0 };
        return value;
      }
      const last = state.last[i];
      if (last && last.age < maxFillSteps) {
        last.age++;
        return last.value;
      }
      complete = false;
      return Number.NaN;
    });
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
