import type { MetricSpec } from './device-catalog.js';
import type { DeviceKind } from './plant.type.js';
import type { Random } from './random.util.js';
import {
  clamp,
  dailyWave,
  decayFactor,
  hourOfDay,
  lagToward,
  MINUTE_MS,
  ouStep,
  shiftActivity,
} from './signals.util.js';

/** One metric of one device: the physical value its model computes plus the sensor's own state. */
export interface Channel {
  readonly spec: MetricSpec;
  /** What the process really does this tick, before drift, noise and sensor faults. */
  clean: number;
  drift: number;
  /** Last value actually emitted; NaN before the first. */
  last: number;
}

/** Plant-wide conditions at one instant, shared by every device so one tick computes them once. */
export interface Conditions {
  activity: number;
  load: number;
  ambient: number;
}

export function conditionsAt(timestampMs: number, into: Conditions): void {
  const hour = hourOfDay(timestampMs);
  into.activity = shiftActivity(hour);
  // Demand follows the shifts, with a gentle early-afternoon peak on top.
  into.load = 0.15 + 0.6 * into.activity + 0.08 * dailyWave(hour, 13);
  into.ambient = 20 + 4 * dailyWave(hour, 15);
}

export interface DeviceModel {
  /** Advances the physics by dtMs and writes each channel's clean value; wear and leak are 0 when healthy. */
  step(conditions: Conditions, dtMs: number, wear: number, leak: number): void;
}

// Each device wanders around the plant demand (local valves, batch sizes); shared by all its metrics, which is
// what makes them correlate beyond the daily cycle.
const WANDER_TAU_MS = 15 * MINUTE_MS;
const WANDER_SIGMA = 0.04;
// Bearing damage shows first in vibration, then as friction heat.
const WEAR_VIBRATION_MM_S = 2.5;
const WEAR_HEAT_DEGC = 12;

function channel(channels: readonly Channel[], name: string): Channel {
  const found = channels.find((candidate) => candidate.spec.name === name);
  if (found === undefined) throw new Error(`Device model needs metric ${name}`);
  return found;
}

class PumpModel implements DeviceModel {
  private readonly flow: Channel;
  private readonly pressure: Channel;
  private readonly current: Channel;
  private readonly vibration: Channel;
  private readonly temperature: Channel;
  private readonly gain: number;
  private readonly ratedFlow: number;
  private readonly staticBar: number;
  private readonly dynamicBar: number;
  private readonly ratedCurrent: number;
  private readonly thermalRise: number;
  private readonly ambientOffset: number;
  private wander = 0;
  private bearing = 0;

  constructor(
    channels: readonly Channel[],
    private readonly rng: Random,
  ) {
    this.flow = channel(channels, 'flow_rate');
    this.pressure = channel(channels, 'discharge_pressure');
    this.current = channel(channels, 'motor_current');
    this.vibration = channel(channels, 'vibration_rms');
    this.temperature = channel(channels, 'bearing_temperature');
    this.gain = rng.between(0.85, 1.1);
    this.ratedFlow = rng.between(80, 200);
    this.staticBar = rng.between(1.5, 2.5);
    this.dynamicBar = rng.between(3, 5);
    this.ratedCurrent = rng.between(20, 80);
    this.thermalRise = rng.between(20, 30);
    this.ambientOffset = rng.between(-1, 3);
  }

  step(c: Conditions, dtMs: number, wear: number, leak: number): void {
    this.wander = ouStep(this.wander, decayFactor(dtMs, WANDER_TAU_MS), WANDER_SIGMA, this.rng.normal());
    const load = clamp(this.gain * c.load + this.wander, 0.05, 1.15);
    // A leak downstream lowers the system's resistance: more flow escapes at lower head, and the motor works harder.
    this.flow.clean = this.ratedFlow * load * (1 + 0.3 * leak);
    this.pressure.clean = (this.staticBar + this.dynamicBar * load * load) * Math.max(0.05, 1 - 0.35 * leak);
    const currentFraction = (0.3 + 0.7 * load) * (1 + 0.15 * leak);
    this.current.clean = this.ratedCurrent * currentFraction;
    this.vibration.clean = 1.2 + 1.6 * load + WEAR_VIBRATION_MM_S * wear;
    // Copper and friction losses grow with the square of the current.
    const heated =
      c.ambient +
      this.ambientOffset +
      this.thermalRise * currentFraction * currentFraction +
      WEAR_HEAT_DEGC * wear;
    this.bearing = lagToward(this.bearing, heated, decayFactor(dtMs, 20 * MINUTE_MS));
    this.temperature.clean = this.bearing;
  }
}

class MotorModel implements DeviceModel {
  private readonly speed: Channel;
  private readonly current: Channel;
  private readonly temperature: Channel;
  private readonly vibration: Channel;
  private readonly power: Channel;
  private readonly gain: number;
  private readonly ratedRpm: number;
  private readonly ratedKw: number;
  private readonly ratedCurrent: number;
  private readonly thermalRise: number;
  private readonly ambientOffset: number;
  private wander = 0;
  private winding = 0;

  constructor(
    channels: readonly Channel[],
    private readonly rng: Random,
  ) {
    this.speed = channel(channels, 'speed_rpm');
    this.current = channel(channels, 'current');
    this.temperature = channel(channels, 'winding_temperature');
    this.vibration = channel(channels, 'vibration_rms');
    this.power = channel(channels, 'power_kw');
    this.gain = rng.between(0.85, 1.1);
    this.ratedRpm = rng.pick([985, 1480, 2960]);
    this.ratedKw = rng.between(7.5, 90);
    // Roughly what a 400 V three-phase motor draws per kW at rated load.
    this.ratedCurrent = this.ratedKw * rng.between(1.75, 1.95);
    this.thermalRise = rng.between(40, 60);
    this.ambientOffset = rng.between(0, 4);
  }

  step(c: Conditions, dtMs: number, wear: number): void {
    this.wander = ouStep(this.wander, decayFactor(dtMs, WANDER_TAU_MS), WANDER_SIGMA, this.rng.normal());
    const load = clamp(this.gain * c.load + this.wander, 0.05, 1.1);
    // Variable-speed drive on a fan or pump: speed follows demand, power the cube of speed (affinity laws).
    const speedFraction = 0.35 + 0.65 * load;
    this.speed.clean = this.ratedRpm * speedFraction;
    const powerFraction = 0.06 + 0.94 * speedFraction * speedFraction * speedFraction;
    this.power.clean = this.ratedKw * powerFraction;
    const currentFraction = 0.35 + 0.65 * powerFraction;
    this.current.clean = this.ratedCurrent * currentFraction;
    this.vibration.clean = 0.7 + 1.8 * speedFraction * speedFraction + WEAR_VIBRATION_MM_S * wear;
    const heated =
      c.ambient +
      this.ambientOffset +
      this.thermalRise * currentFraction * currentFraction +
      WEAR_HEAT_DEGC * wear;
    this.winding = lagToward(this.winding, heated, decayFactor(dtMs, 30 * MINUTE_MS));
    this.temperature.clean = this.winding;
  }
}

class EnvironmentModel implements DeviceModel {
  private readonly temperature: Channel;
  private readonly humidity: Channel;
  private readonly co2: Channel;
  private readonly ambientOffset: number;
  private readonly machineHeat: number;
  private readonly humidityAtReference: number;
  private readonly co2PerActivity: number;
  private wander = 0;
  private co2Level = 0;

  constructor(
    channels: readonly Channel[],
    private readonly rng: Random,
  ) {
    this.temperature = channel(channels, 'temperature');
    this.humidity = channel(channels, 'humidity');
    this.co2 = channel(channels, 'co2');
    this.ambientOffset = rng.between(-1.5, 1.5);
    this.machineHeat = rng.between(1, 2.5);
    this.humidityAtReference = rng.between(45, 60);
    this.co2PerActivity = rng.between(400, 800);
  }

  step(c: Conditions, dtMs: number): void {
    // Draughts and doors: a local wander in temperature only, so humidity inherits it through the coupling below.
    this.wander = ouStep(this.wander, decayFactor(dtMs, WANDER_TAU_MS), 0.3, this.rng.normal());
    const temperature = c.ambient + this.ambientOffset + this.machineHeat * c.activity + this.wander;
    this.temperature.clean = temperature;
    // Same moisture in warmer air is a lower relative humidity.
    this.humidity.clean = this.humidityAtReference - 2.5 * (temperature - 21);
    // People breathe it in; ventilation flushes it out with the hall's air-exchange time constant.
    this.co2Level = lagToward(
      this.co2Level,
      420 + this.co2PerActivity * c.activity,
      decayFactor(dtMs, 40 * MINUTE_MS),
    );
    this.co2.clean = this.co2Level;
  }
}

export function createModel(kind: DeviceKind, channels: readonly Channel[], rng: Random): DeviceModel {
  switch (kind) {
    case 'pump':
      return new PumpModel(channels, rng);
    case 'motor':
      return new MotorModel(channels, rng);
    case 'environment_sensor':
      return new EnvironmentModel(channels, rng);
  }
}
