import { createHash } from 'node:crypto';
import { DEVICE_KINDS, KIND_ROTATION, type MetricSpec } from './device-catalog.js';
import {
  type Channel,
  type Conditions,
  conditionsAt,
  createModel,
  type DeviceModel,
} from './device-models.js';
import {
  bearingWear,
  faultProblem,
  FaultSpecError,
  LOAD_RISE_DEFAULT_MS,
  leakLevel,
  loadRise,
  SPIKE_PROBABILITY,
} from './faults.js';
import type { DeviceKind, FaultKind, PlantOptions, SimulatedDevice, SimulatedSample } from './plant.type.js';
import { mixSeed, Random } from './random.util.js';
import { clamp, decayFactor, HOUR_MS, ouStep } from './signals.util.js';

// Calibration drift is slow: hours, not minutes.
const DRIFT_TAU_MS = 6 * HOUR_MS;
// Event ids give each device this many metric slots; no kind has more metrics.
const ID_SLOTS_PER_DEVICE = 8;
const DEVICES_PER_LINE = 20;
const LINES_PER_SITE = 25;

interface DeviceFault {
  readonly kind: FaultKind;
  readonly startMs: number;
  readonly endMs: number;
  readonly severity: number;
  /** The metric hit; undefined hits every metric (dropout). */
  readonly channel: Channel | undefined;
  readonly missing: boolean;
  stuckValue: number;
}

interface DeviceState {
  readonly index: number;
  readonly descriptor: SimulatedDevice;
  // Shared by every sample of the device instead of copied per sample: frozen so no consumer can alter the rest.
  readonly labels: Readonly<Record<string, string>>;
  readonly channels: readonly Channel[];
  readonly physics: DeviceModel;
  readonly rng: Random;
  // Faults draw from their own stream so a faulty plant's noise matches its fault-free twin sample for sample.
  readonly faultRng: Random;
  readonly faults: DeviceFault[];
  lastMs: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * A plant of simulated devices. Pure: it computes samples and leaves sending them to the caller.
 * State integrates over the real time since each device's previous sample, so any tick rate gives the same physics.
 */
export class Plant {
  private readonly seed: number;
  private readonly source: string;
  private readonly states: DeviceState[] = [];
  private readonly byId = new Map<string, DeviceState>();
  private readonly conditions: Conditions = { activity: 0, load: 0, ambient: 0 };
  private conditionsMs = Number.NaN;
  private idMs = Number.NaN;
  private idPrefix = '';
  private idTail = 0;

  constructor(options: PlantOptions) {
    if (!Number.isInteger(options.devices) || options.devices < 1) {
      throw new RangeError(`Plant needs a positive whole number of devices, got ${options.devices}`);
    }
    this.seed = options.seed ?? 1;
    this.source = options.source ?? 'simulator';
    const perKind = new Map<DeviceKind, number>();
    for (let index = 0; index < options.devices; index++) {
      const kind = KIND_ROTATION[index % KIND_ROTATION.length] ?? 'pump';
      const number = (perKind.get(kind) ?? 0) + 1;
      perKind.set(kind, number);
      const state = this.createDevice(index, kind, number);
      this.states.push(state);
      this.byId.set(state.descriptor.id, state);
    }
    for (const spec of options.faults ?? []) {
      const state = this.byId.get(spec.deviceId);
      if (state === undefined)
        throw new FaultSpecError(`Fault ${spec.kind} targets unknown device ${spec.deviceId}`);
      const problem = faultProblem(spec, state.descriptor.type);
      if (problem !== undefined) throw new FaultSpecError(`Fault on ${spec.deviceId}: ${problem}`);
      const channel =
        spec.metric !== undefined
          ? state.channels.find((candidate) => candidate.spec.name === spec.metric)
          : spec.kind === 'dropout'
            ? undefined
            : state.channels[0];
      state.faults.push({
        kind: spec.kind,
        startMs: spec.startMs,
        endMs: spec.startMs + (spec.durationMs ?? Number.POSITIVE_INFINITY),
        severity: spec.severity ?? 1,
        channel,
        missing: spec.mode === 'missing',
        stuckValue: Number.NaN,
      });
    }
    if (options.startMs !== undefined) {
      for (const state of this.states) this.advance(state, options.startMs);
    }
  }

  devices(): SimulatedDevice[] {
    return this.states.map(({ descriptor }) => ({
      ...descriptor,
      labels: { ...descriptor.labels },
      metrics: descriptor.metrics.map((metric) => ({ ...metric })),
    }));
  }

  /** One tick: every metric of every device at timestampMs. */
  sample(timestampMs: number): SimulatedSample[] {
    const out: SimulatedSample[] = [];
    for (const state of this.states) this.emit(state, timestampMs, out);
    return out;
  }

  sampleDevice(deviceId: string, timestampMs: number): SimulatedSample[] {
    const state = this.byId.get(deviceId);
    if (state === undefined) throw new RangeError(`Unknown device ${deviceId}`);
    const out: SimulatedSample[] = [];
    this.emit(state, timestampMs, out);
    return out;
  }

  private createDevice(index: number, kind: DeviceKind, number: number): DeviceState {
    const spec = DEVICE_KINDS[kind];
    // Seeded by position, not plant size, so pump-0003 is the same device in a plant of 10 or of 10,000.
    const rng = new Random(mixSeed(this.seed, index));
    const hardware = rng.pick(spec.hardware);
    const line = Math.floor(index / DEVICES_PER_LINE);
    const labels = Object.freeze({
      site: `site-${pad(Math.floor(line / LINES_PER_SITE) + 1, 2)}`,
      line: `line-${pad((line % LINES_PER_SITE) + 1, 2)}`,
      asset: `${spec.assetPrefix}-${pad(number, 4)}`,
    });
    const channels = spec.metrics.map((metric: MetricSpec): Channel => ({
      spec: metric,
      clean: 0,
      drift: 0,
      last: Number.NaN,
    }));
    return {
      index,
      descriptor: {
        id: `${spec.idPrefix}-${pad(number, 4)}`,
        type: kind,
        vendor: hardware.vendor,
        model: hardware.model,
        labels,
        metrics: spec.metrics.map(({ name, unit }) => ({ name, unit })),
      },
      labels,
      channels,
      physics: createModel(kind, channels, rng),
      rng,
      faultRng: new Random(mixSeed(this.seed, index, 0xfa17)),
      faults: [],
      lastMs: Number.NaN,
    };
  }

  /** Moves a device's physics and sensor drift to timestampMs. */
  private advance(state: DeviceState, timestampMs: number): void {
    // The first tick has no past: an infinite step settles every lag straight into steady state.
    const dtMs = Number.isNaN(state.lastMs)
      ? Number.POSITIVE_INFINITY
      : Math.max(0, timestampMs - state.lastMs);
    // Out-of-order ticks do not rewind time, or the next one would integrate the same interval twice.
    state.lastMs = Number.isNaN(state.lastMs) ? timestampMs : Math.max(state.lastMs, timestampMs);
    if (timestampMs !== this.conditionsMs) {
      conditionsAt(timestampMs, this.conditions);
      this.conditionsMs = timestampMs;
    }
    let wear = 0;
    let leak = 0;
    let extraLoad = 0;
    for (const fault of state.faults) {
      if (fault.kind === 'load_rise' && timestampMs >= fault.startMs) {
        // Its duration is the ramp's; the higher load then stays (a healthy change does not switch back off).
        const rampMs = Number.isFinite(fault.endMs) ? fault.endMs - fault.startMs : LOAD_RISE_DEFAULT_MS;
        extraLoad += loadRise(timestampMs - fault.startMs, rampMs, fault.severity);
      }
      if (timestampMs < fault.startMs || timestampMs >= fault.endMs) continue;
      if (fault.kind === 'bearing_wear') wear += bearingWear(timestampMs - fault.startMs, fault.severity);
      else if (fault.kind === 'leak') leak += leakLevel(timestampMs - fault.startMs, fault.severity);
    }
    const conditions =
      extraLoad === 0 ? this.conditions : { ...this.conditions, load: this.conditions.load + extraLoad };
    state.physics.step(conditions, dtMs, wear, leak);
    const driftDecay = decayFactor(dtMs, DRIFT_TAU_MS);
    for (const channel of state.channels) {
      channel.drift = ouStep(channel.drift, driftDecay, channel.spec.drift, state.rng.normal());
    }
  }

  private emit(state: DeviceState, timestampMs: number, out: SimulatedSample[]): void {
    this.advance(state, timestampMs);
    this.prepareEventIds(timestampMs);
    const deviceId = state.descriptor.id;
    let slot = state.index * ID_SLOTS_PER_DEVICE;
    for (const channel of state.channels) {
      const spec = channel.spec;
      const measured = clamp(
        channel.clean + channel.drift + spec.noise * state.rng.normal(),
        spec.min,
        spec.max,
      );
      const value =
        state.faults.length === 0 ? measured : this.applySensorFaults(state, channel, timestampMs, measured);
      if (value !== undefined) {
        if (value !== null) channel.last = value;
        out.push({
          eventId: this.idPrefix + ((this.idTail ^ slot) >>> 0).toString(16).padStart(8, '0'),
          deviceId,
          timestampMs,
          metric: spec.name,
          value,
          unit: spec.unit,
          quality: value === null ? 'BAD' : 'GOOD',
          labels: state.labels,
          source: this.source,
        });
      }
      slot++;
    }
  }

  /** The reported value under the device's sensor faults: null when read as BAD, undefined when not sent. */
  private applySensorFaults(
    state: DeviceState,
    channel: Channel,
    timestampMs: number,
    measured: number,
  ): number | null | undefined {
    let value: number | null | undefined = measured;
    for (const fault of state.faults) {
      if (timestampMs < fault.startMs || timestampMs >= fault.endMs) continue;
      if (fault.channel !== undefined && fault.channel !== channel) continue;
      if (fault.kind === 'stuck_sensor') {
        // A frozen reading keeps GOOD quality: that silence is what makes stuck sensors hard to catch.
        if (Number.isNaN(fault.stuckValue))
          fault.stuckValue = Number.isNaN(channel.last) ? measured : channel.last;
        value = fault.stuckValue;
      } else if (fault.kind === 'spike' && value !== null && value !== undefined) {
        if (state.faultRng.uniform() < SPIKE_PROBABILITY) {
          value += fault.severity * channel.spec.spike * (1 + state.faultRng.uniform());
        }
      } else if (fault.kind === 'dropout') {
        value = fault.missing ? undefined : null;
      }
    }
    return value;
  }

  /**
   * Event ids are UUIDs fixed by (seed, device, metric, timestamp) so replays resend the same ids. One sha1 per
   * distinct timestamp, shared by the whole tick, with a per-(device, metric) slot folded into the last 32 bits,
   * keeps hashing off the per-sample path.
   */
  private prepareEventIds(timestampMs: number): void {
    if (timestampMs === this.idMs) return;
    const hash = createHash('sha1').update(`sentio-simulator:${this.seed}:${timestampMs}`).digest();
    // Version 5 and RFC 4122 variant bits, as a name-based UUID would carry.
    hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6);
    hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
    const hex = hash.toString('hex', 0, 12);
    this.idPrefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 24)}`;
    this.idTail = hash.readUInt32BE(12);
    this.idMs = timestampMs;
  }
}
