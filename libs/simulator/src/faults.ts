/**
 * Fault specs, their parser and their time profiles.
 *
 * Spec syntax (CLI):
 *
 *   <device-id>:<fault>[:<metric>]@<start>[,for=<duration>][,severity=<number>][,mode=missing|bad]
 *
 *   device-id  pump-NNNN, motor-NNNN or env-NNNN
 *   fault      bearing_wear (pump, motor) | leak (pump) | stuck_sensor | spike | dropout (any device)
 *              | load_rise (pump, motor: not a fault, a healthy drift of the operating point)
 *   metric     stuck_sensor and spike: the metric hit, default the device's first one;
 *              dropout: default every metric of the device
 *   start      now | +<duration> (after now) | an ISO-8601 instant | epoch milliseconds
 *   duration   <number><ms|s|m|h|d>, e.g. 90s, 10m, 1.5h; without for= the fault never ends
 *   severity   positive scale of the effect, default 1
 *   mode       dropout only: samples missing altogether, or sent with quality BAD and a null value (default)
 *
 * Examples:
 *   pump-0003:bearing_wear@+10m
 *   pump-0001:leak@+1h,for=30m,severity=2
 *   motor-0002:stuck_sensor:winding_temperature@2025-06-01T08:00:00Z
 *   env-0001:dropout@now,for=5m,mode=missing
 *   pump-0002:load_rise@+10m,for=30m,severity=1
 */
import { DEVICE_KINDS, kindOfDeviceId } from './device-catalog.js';
import type { DeviceKind, FaultKind, FaultSpec } from './plant.type.js';
import { HOUR_MS, MINUTE_MS } from './signals.util.js';

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

const ALL_KINDS: readonly DeviceKind[] = ['pump', 'motor', 'environment_sensor'];

const FAULTS: Readonly<Record<FaultKind, { targets: readonly DeviceKind[]; takesMetric: boolean }>> = {
  bearing_wear: { targets: ['pump', 'motor'], takesMetric: false },
  leak: { targets: ['pump'], takesMetric: false },
  stuck_sensor: { targets: ALL_KINDS, takesMetric: true },
  spike: { targets: ALL_KINDS, takesMetric: true },
  dropout: { targets: ALL_KINDS, takesMetric: true },
  load_rise: { targets: ['pump', 'motor'], takesMetric: false },
};

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: MINUTE_MS,
  h: HOUR_MS,
  d: 24 * HOUR_MS,
};

const isFaultKind = (value: string): value is FaultKind => Object.hasOwn(FAULTS, value);

/** What is wrong with a fault aimed at a device of this kind, or undefined when it is sound. */
export function faultProblem(spec: FaultSpec, deviceKind: DeviceKind): string | undefined {
  const fault = isFaultKind(spec.kind) ? FAULTS[spec.kind] : undefined;
  if (fault === undefined)
    return `unknown fault "${spec.kind}" (expected one of ${Object.keys(FAULTS).join(', ')})`;
  if (!fault.targets.includes(deviceKind)) {
    return `fault ${spec.kind} does not apply to ${deviceKind} devices (only ${fault.targets.join(', ')})`;
  }
  if (spec.metric !== undefined) {
    if (!fault.takesMetric) return `fault ${spec.kind} takes no metric`;
    const metrics = DEVICE_KINDS[deviceKind].metrics.map((metric) => metric.name);
    if (!metrics.includes(spec.metric)) {
      return `unknown metric "${spec.metric}" for ${deviceKind} (expected one of ${metrics.join(', ')})`;
    }
  }
  if (spec.mode !== undefined && spec.kind !== 'dropout') return `mode applies to dropout only`;
  if (!Number.isFinite(spec.startMs)) return `start time must be a finite epoch millisecond`;
  if (spec.durationMs !== undefined && !(spec.durationMs > 0 && Number.isFinite(spec.durationMs))) {
    return `duration must be positive`;
  }
  if (spec.severity !== undefined && !(spec.severity > 0 && Number.isFinite(spec.severity))) {
    return `severity must be a positive number`;
  }
  return undefined;
}

function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  const unitMs = match?.[2] === undefined ? undefined : DURATION_UNITS_MS[match[2]];
  return match?.[1] === undefined || unitMs === undefined ? undefined : Number(match[1]) * unitMs;
}

function parseStart(text: string, nowMs: number): number | undefined {
  if (text === 'now') return nowMs;
  if (text.startsWith('+')) {
    const offset = parseDuration(text.slice(1));
    return offset === undefined ? undefined : nowMs + offset;
  }
  if (/^\d+$/.test(text)) return Number(text);
  // Date.parse alone would accept loose forms like "5" or "June 1"; insist on an ISO date.
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** Parses one CLI fault spec (syntax above); relative start times count from nowMs. */
export function parseFaultSpec(text: string, nowMs: number): FaultSpec {
  const fail = (problem: string): never => {
    throw new FaultSpecError(`Invalid fault spec "${text}": ${problem}`);
  };
  const at = text.indexOf('@');
  if (at < 0) return fail('missing "@<start>", e.g. pump-0003:bearing_wear@+10m');
  const target = text.slice(0, at).trim().split(':');
  const [deviceId = '', kind = '', metric, ...extra] = target;
  if (extra.length > 0) return fail(`expected <device-id>:<fault>[:<metric>] before "@"`);
  const deviceKind = kindOfDeviceId(deviceId);
  if (deviceKind === undefined) {
    return fail(
      `unknown device kind in "${deviceId}" (expected an id like pump-0001, motor-0001 or env-0001)`,
    );
  }
  if (!isFaultKind(kind))
    return fail(`unknown fault "${kind}" (expected one of ${Object.keys(FAULTS).join(', ')})`);

  const [startText = '', ...options] = text
    .slice(at + 1)
    .trim()
    .split(',');
  const startMs = parseStart(startText.trim(), nowMs);
  if (startMs === undefined) {
    return fail(
      `bad start time "${startText}" (expected now, +<duration> like +10m, an ISO-8601 instant or epoch ms)`,
    );
  }
  const spec: FaultSpec = { deviceId, kind, startMs };
  if (metric !== undefined) spec.metric = metric;
  for (const option of options) {
    const [key = '', value = '', ...rest] = option.trim().split('=');
    if (rest.length > 0 || value === '') return fail(`bad option "${option}" (expected key=value)`);
    if (key === 'for') {
      const durationMs = parseDuration(value);
      if (durationMs === undefined)
        return fail(`bad duration "${value}" (expected <number><ms|s|m|h|d>, e.g. 30m)`);
      spec.durationMs = durationMs;
    } else if (key === 'severity') {
      spec.severity = Number(value);
    } else if (key === 'mode') {
      if (value !== 'missing' && value !== 'bad')
        return fail(`bad mode "${value}" (expected missing or bad)`);
      spec.mode = value;
    } else {
      return fail(`unknown option "${key}" (expected for, severity or mode)`);
    }
  }
  const problem = faultProblem(spec, deviceKind);
  return problem === undefined ? spec : fail(problem);
}

/**
 * Bearing damage in arbitrary units: creeps in over the first hours, then accelerates as spalling feeds
 * itself (about 0.3 after 1 h, 1.3 after 4 h, 3 after 8 h at severity 1).
 */
export function bearingWear(elapsedMs: number, severity: number): number {
  const hours = elapsedMs / HOUR_MS;
  return severity * (hours / 4 + (hours / 8) ** 2);
}

/** Leak size: opens over a few minutes rather than in one tick, so downstream detectors see a ramp. */
export function leakLevel(elapsedMs: number, severity: number): number {
  return severity * Math.min(1, elapsedMs / (5 * MINUTE_MS));
}

/**
 * The demand added to a device by a healthy load rise, as a fraction of its rated load: a slow ramp over the
 * ramp's duration (`for`, default 30 min) to severity x 0.25, held afterwards (a load rise does not end). Every metric follows it
 * through the device's own physics (flow, head, current, vibration and, with its thermal lag, temperature),
 * so the metrics move together the way healthy operation moves them: a detector should not call it a fault.
 */
export function loadRise(elapsedMs: number, durationMs: number, severity: number): number {
  return 0.25 * severity * Math.min(1, elapsedMs / durationMs);
}

/** How long a load rise without `for` takes to reach its full size. */
export const LOAD_RISE_DEFAULT_MS = 30 * MINUTE_MS;

/** Chance that one sample of a spiking metric is a glitch: often enough to see, rare enough to stay isolated. */
export const SPIKE_PROBABILITY = 0.02;
