import type { AlertRule, Severity } from '../rules/alert-rule.schema.js';
import type { ConditionResult } from './engine-input.type.js';

export type AlertStatus = 'inactive' | 'pending' | 'firing' | 'resolved' | 'nodata' | 'error';

/** One rule on one device: where it is in inactive -> pending -> firing -> resolved. Plain JSON (snapshotted). */
export interface AlertInstanceState {
  status: AlertStatus;
  /** When the current status began. */
  since: number;
  /** When the condition started holding (pending), for `for`. */
  activeAt?: number;
  /** Last time the condition held, for keep_firing_for. */
  heldAt?: number;
  resolvedAt?: number;
  /** Transition times within the flapping window. */
  transitions: number[];
  flapping: boolean;
  /** Transitions so far: with the alert id, the idempotent event id of each. */
  seq: number;
  /** Event time of the newest evaluation (never goes back). */
  evaluatedAt: number;
}

export interface StateChange {
  previous: AlertStatus;
  status: AlertStatus;
  ts: number;
  /** The flag alone changed (status unchanged): notifications are held or released. */
  flappingChanged: boolean;
}

export function initialState(): AlertInstanceState {
  return { status: 'inactive', since: 0, transitions: [], flapping: false, seq: 0, evaluatedAt: 0 };
}

export function isActive(status: AlertStatus): boolean {
  return status === 'pending' || status === 'firing' || status === 'nodata' || status === 'error';
}

/**
 * Grafana's state.go in one function: given the condition's result at event time `ts`, moves the alert and
 * returns the transition, if any. Results older than the last evaluation only count as "now".
 */
export function applyResult(
  rule: Pick<AlertRule, 'for' | 'keepFiringFor' | 'cooldown' | 'flapping'>,
  state: AlertInstanceState,
  result: ConditionResult,
  ts: number,
): StateChange | undefined {
  const t = Math.max(ts, state.evaluatedAt);
  state.evaluatedAt = t;
  const from = state.status;
  let to: AlertStatus = from;
  switch (result.status) {
    case 'alerting': {
      state.heldAt = t;
      const cooling = state.resolvedAt !== undefined && t - state.resolvedAt < rule.cooldown;
      if (from === 'firing') break;
      if (from === 'pending') {
        if (t - (state.activeAt ?? t) >= rule.for && !cooling) to = 'firing';
        break;
      }
      state.activeAt = t;
      to = rule.for === 0 && !cooling ? 'firing' : 'pending';
      break;
    }
    case 'normal':
      if (from === 'pending') to = 'inactive';
      else if (from === 'firing') {
        if (rule.keepFiringFor > 0 && t - (state.heldAt ?? t) < rule.keepFiringFor) break;
        to = 'resolved';
      } else if (from === 'nodata' || from === 'error') to = 'resolved';
      break;
    case 'nodata':
      if (from === 'firing' || from === 'pending') to = 'nodata';
      break;
    case 'error':
      if (from !== 'error') to = 'error';
      break;
  }
  const wasFlapping = state.flapping;
  if (to !== from) {
    state.status = to;
    state.since = t;
    if (to === 'resolved') state.resolvedAt = t;
    state.transitions.push(t);
    state.seq++;
  }
  while (state.transitions.length > 0 && state.transitions[0]! <= t - rule.flapping.window)
    state.transitions.shift();
  const count = state.transitions.length;
  // Hysteresis on the flag too: set at the limit, cleared once under half of it.
  if (!state.flapping && count >= rule.flapping.maxTransitions) state.flapping = true;
  else if (state.flapping && count < Math.ceil(rule.flapping.maxTransitions / 2)) state.flapping = false;
  const flappingChanged = wasFlapping !== state.flapping;
  if (to === from && !flappingChanged) return undefined;
  if (to === from) state.seq++;
  return { previous: from, status: to, ts: t, flappingChanged };
}

const ORDER: Severity[] = ['info', 'warning', 'minor', 'major', 'critical'];

export interface SeverityContext {
  deviceLabels: Record<string, string>;
  detail: Record<string, string | number>;
  /** Devices with this rule firing right now. */
  affectedDevices: number;
}

/** Base severity raised by what makes this instance worse, with the reasons (the alert says why). */
export function contextSeverity(
  base: Severity,
  ctx: SeverityContext,
): { severity: Severity; reason: string } {
  let level = ORDER.indexOf(base);
  const reasons = [`base ${base}`];
  const bump = (n: number, why: string) => {
    level += n;
    reasons.push(`+${n} ${why}`);
  };
  const criticality = (ctx.deviceLabels['criticality'] ?? '').toLowerCase();
  if (criticality === 'high' || criticality === 'critical') bump(1, `device criticality ${criticality}`);
  if (ctx.detail['risk'] === 'HIGH') bump(1, 'forecast risk HIGH');
  const ttf = Number(ctx.detail['timeToFailureMs']);
  if (Number.isFinite(ttf) && ttf > 0) {
    if (ttf < 15 * 60_000) bump(2, `time to failure ${Math.round(ttf / 60_000)} min`);
    else if (ttf < 3_600_000) bump(1, `time to failure ${Math.round(ttf / 60_000)} min`);
  }
  const ratio = Number(ctx.detail['scoreRatio']);
  if (Number.isFinite(ratio) && ratio >= 2) bump(1, `anomaly score ${ratio.toFixed(1)}x its threshold`);
  if (ctx.affectedDevices >= 5) bump(1, `${ctx.affectedDevices} devices affected`);
  const severity = ORDER[Math.min(ORDER.length - 1, Math.max(0, level))]!;
  return { severity, reason: reasons.join(', ') };
}
