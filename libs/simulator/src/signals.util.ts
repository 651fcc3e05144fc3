// Signal building blocks. State updates take a decay factor derived from the real elapsed time, so the same
// plant behaves alike whether it is ticked at 1 Hz, once a minute, or irregularly.

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Fractional UTC hour in [0, 24): the plant runs on UTC so replays do not depend on the host's zone. */
export function hourOfDay(timestampMs: number): number {
  return (((timestampMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
}

/** Sinusoid with a 24 h period: 1 at peakHour, -1 twelve hours later. */
export function dailyWave(hour: number, peakHour: number): number {
  return Math.cos((2 * Math.PI * (hour - peakHour)) / 24);
}

const DAY_SHIFTS_START = 6;
const DAY_SHIFTS_END = 22;
const NIGHT_ACTIVITY = 0.4;
// Production ramps up and down around shift changes rather than switching in an instant.
const SHIFT_RAMP_HOURS = 0.5;

/** Share of production running: 1 during the two day shifts (06–22), a skeleton night shift otherwise. */
export function shiftActivity(hour: number): number {
  const rampUp = clamp((hour - DAY_SHIFTS_START + SHIFT_RAMP_HOURS / 2) / SHIFT_RAMP_HOURS, 0, 1);
  const rampDown = clamp((DAY_SHIFTS_END + SHIFT_RAMP_HOURS / 2 - hour) / SHIFT_RAMP_HOURS, 0, 1);
  return NIGHT_ACTIVITY + (1 - NIGHT_ACTIVITY) * Math.min(rampUp, rampDown);
}

/**
 * exp(-dt/tau): the exact discretisation of a first-order system, stable for any step. An infinite step
 * (a device's first tick) gives 0, which settles state straight into steady state.
 */
export function decayFactor(dtMs: number, tauMs: number): number {
  return Math.exp(-dtMs / tauMs);
}

/** First-order lag (thermal mass, room air volume) moving current towards target. */
export function lagToward(current: number, target: number, decay: number): number {
  return target + (current - target) * decay;
}

/**
 * Ornstein–Uhlenbeck step: a random walk pulled back to zero, with stationary standard deviation sigma.
 * Models slow sensor drift and process wander without letting either run away over a long run.
 */
export function ouStep(x: number, decay: number, sigma: number, z: number): number {
  return x * decay + sigma * Math.sqrt(1 - decay * decay) * z;
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
