import { createHash } from 'node:crypto';
import type { AlertRule, RuleSelector, Severity } from '../rules/alert-rule.schema.js';
import {
  applyResult,
  contextSeverity,
  initialState,
  isActive,
  type AlertInstanceState,
  type AlertStatus,
} from './alert-state-machine.js';
import { conditionAccepts, evaluateInput, evaluateTick, type ConditionState } from './condition-evaluator.js';
import type { ConditionResult, EngineInput } from './engine-input.type.js';

/** One transition of one alert: becomes one event on the alerts topic. */
export interface AlertTransition {
  eventId: string;
  alertId: string;
  seq: number;
  ruleId: string;
  ruleName: string;
  kind: string;
  deviceId: string;
  ts: number;
  status: AlertStatus;
  previous: AlertStatus;
  flapping: boolean;
  severity: Severity;
  severityReason: string;
  value: number | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  title: string;
  description: string;
}

export interface InstanceSnapshot {
  ruleId: string;
  deviceId: string;
  /** The condition this state was built for (see RuleSet.conditionKeys). */
  ck?: string | undefined;
  cond: ConditionState;
  alert: AlertInstanceState;
}

interface Instance extends InstanceSnapshot {
  last: ConditionResult | undefined;
}

export interface DeviceInfo {
  deviceType: string | null;
  labels: Record<string, string>;
}

/** Whether time alone can make the condition hold (a silence growing long), so inactive instances need ticks. */
function hasTimers(condition: AlertRule['condition']): boolean {
  return (
    condition.kind === 'nodata' || (condition.kind === 'composite' && condition.conditions.some(hasTimers))
  );
}

/** A condition's state without the explanation texts of its last result: snapshots stay small. */
function compactState(cond: ConditionState): ConditionState {
  if (!cond.last && !cond.sub) return cond;
  return {
    ...cond,
    ...(cond.last ? { last: { status: cond.last.status, value: cond.last.value, detail: {} } } : {}),
    ...(cond.sub ? { sub: cond.sub.map(compactState) } : {}),
  };
}

/** Rules shared by every partition's engine, and fleet-wide counts that raise severity. */
export class RuleSet {
  readonly rules = new Map<string, AlertRule>();
  /** Firing devices per rule, over every partition of this process. */
  readonly firing = new Map<string, Set<string>>();
  /** Device type and labels (from the lifecycle stream and telemetry labels), for selectors and severity. */
  readonly devices = new Map<string, DeviceInfo>();
  version = 0;

  /** A digest of each rule's condition: an instance whose condition changed starts its windows afresh. */
  readonly conditionKeys = new Map<string, string>();

  set(rule: AlertRule): void {
    this.rules.set(rule.id, rule);
    // A digest, not the text: it is written with every state snapshot of the rule.
    this.conditionKeys.set(
      rule.id,
      createHash('sha256').update(JSON.stringify(rule.condition)).digest('base64url').slice(0, 12),
    );
    this.version++;
  }

  delete(id: string): void {
    this.rules.delete(id);
    this.conditionKeys.delete(id);
    this.version++;
  }
}

export function alertFingerprint(ruleId: string, deviceId: string): string {
  return createHash('sha256').update(`${ruleId}\u0000${deviceId}`).digest('hex').slice(0, 16);
}

export function selectorMatches(
  selector: RuleSelector,
  deviceId: string,
  info: DeviceInfo | undefined,
): boolean {
  if (selector.devices && !selector.devices.includes(deviceId)) return false;
  if (selector.deviceType !== undefined && info?.deviceType !== selector.deviceType) return false;
  if (selector.site !== undefined && info?.labels['site'] !== selector.site) return false;
  for (const [k, v] of Object.entries(selector.labels ?? {})) if (info?.labels[k] !== v) return false;
  return true;
}

/** {{device}}, {{value}}, {{threshold}}, {{metric}}, {{timeToFailure}}, {{severity}}, {{labels.site}}... */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, key: string) => values[key] ?? '');
}

function formatValue(v: number | null): string {
  if (v === null) return '';
  return Math.abs(v) >= 100 ? v.toFixed(1) : String(Math.round(v * 1000) / 1000);
}

/**
 * Streaming evaluation of every rule on the devices of one partition, in event time. Inputs come in per
 * device in order (within the lateness bound); `advance(now)` moves timers (for, keep_firing_for, no data,
 * window expiry). Everything it holds is plain JSON per (rule, device), so the caller snapshots what changed
 * (`takeDirty`) alongside the offsets and restores it after a restart. Backtests run the same class.
 */
export class AlertEngine {
  private readonly instances = new Map<string, Instance>();
  private readonly deviceRules = new Map<
    string,
    { version: number; info: DeviceInfo | undefined; rules: AlertRule[] }
  >();
  private readonly dirty = new Set<string>();
  /**
   * Instances that time alone can change (active, flapping, or a rule with timers such as no data): what
   * `advance` visits. A rule change (pause, delete) makes the next `advance` visit every instance once.
   */
  private readonly timed = new Set<string>();
  private scannedVersion = -1;
  /** Highest event time seen: the engine's clock. */
  watermark = 0;
  lateDropped = 0;

  constructor(
    private readonly ruleSet: RuleSet,
    private readonly options: { allowedLatenessMs: number } = { allowedLatenessMs: 5000 },
  ) {}

  get size(): number {
    return this.instances.size;
  }

  process(input: EngineInput): AlertTransition[] {
    if (input.type === 'device') {
      if (input.removed) this.ruleSet.devices.delete(input.deviceId);
      else this.ruleSet.devices.set(input.deviceId, { deviceType: input.deviceType, labels: input.labels });
      return [];
    }
    if (input.ts < this.watermark - this.options.allowedLatenessMs) {
      this.lateDropped++;
      return [];
    }
    if (input.ts > this.watermark) this.watermark = input.ts;
    if (input.type === 'sample' && input.labels && Object.keys(input.labels).length > 0)
      this.learnLabels(input);
    const out: AlertTransition[] = [];
    for (const rule of this.rulesFor(input.deviceId)) {
      if (rule.paused || !conditionAccepts(rule.condition, input)) continue;
      const instance = this.instance(rule, input.deviceId);
      const ck = this.ruleSet.conditionKeys.get(rule.id);
      if (instance.ck !== ck) {
        // The rule's condition changed: its windows mean something else now; the alert's state stays.
        if (instance.ck !== undefined) instance.cond = {};
        instance.ck = ck;
      }
      let result: ConditionResult;
      try {
        result = evaluateInput(rule.condition, instance.cond, input, isActive(instance.alert.status));
      } catch (error) {
        // A rule that cannot be evaluated is an alert of its own (error state), not a stopped evaluator.
        result = {
          status: 'error',
          value: null,
          detail: { explanation: `evaluation failed: ${(error as Error).message}` },
        };
      }
      instance.last = result;
      const key = this.key(rule.id, input.deviceId);
      this.dirty.add(key);
      this.apply(rule, instance, result, input.ts, out);
      if (this.needsTicks(rule, instance)) this.timed.add(key);
    }
    return out;
  }

  /** Moves event time to `now` (never back) and fires what timers decide. */
  advance(now: number): AlertTransition[] {
    if (now > this.watermark) this.watermark = now;
    const out: AlertTransition[] = [];
    const all = this.scannedVersion !== this.ruleSet.version;
    this.scannedVersion = this.ruleSet.version;
    for (const key of all ? [...this.instances.keys()] : [...this.timed]) {
      const instance = this.instances.get(key);
      if (!instance) {
        this.timed.delete(key);
        continue;
      }
      const rule = this.ruleSet.rules.get(instance.ruleId);
      if (!rule || rule.paused) {
        // Deleted or paused: an active alert ends (resolved) and the instance goes away.
        if (isActive(instance.alert.status)) {
          this.apply(
            rule ??
              ({
                for: 0,
                keepFiringFor: 0,
                cooldown: 0,
                flapping: { window: 1, maxTransitions: 1e9 },
              } as AlertRule),
            instance,
            { status: 'normal', value: null, detail: { explanation: rule ? 'rule paused' : 'rule deleted' } },
            this.watermark,
            out,
            rule ? undefined : { id: instance.ruleId },
          );
        }
        this.instances.delete(key);
        this.timed.delete(key);
        this.dirty.add(key);
        continue;
      }
      // Only what time alone can change is re-evaluated: active alerts (for, keep_firing_for, windows
      // emptying), flapping flags ageing out, and silences (no data). An inactive threshold waits for data.
      if (!this.needsTicks(rule, instance)) {
        this.timed.delete(key);
        continue;
      }
      this.timed.add(key);
      // A flapping alert is re-checked even without news: its flag clears as old transitions age out.
      const result =
        evaluateTick(rule.condition, instance.cond, this.watermark, isActive(instance.alert.status)) ??
        (instance.alert.flapping
          ? (instance.last ?? { status: 'normal', value: null, detail: {} })
          : undefined);
      if (!result) continue;
      instance.last = result;
      // Persisted only when something happened: pruned windows are pruned again after a restore, and
      // writing every ticked instance would rewrite the whole state every commit.
      if (this.apply(rule, instance, result, this.watermark, out)) this.dirty.add(key);
    }
    return out;
  }

  /** Keys changed since the last call, with their state (undefined: deleted). */
  takeDirty(): Array<[string, InstanceSnapshot | undefined]> {
    const out: Array<[string, InstanceSnapshot | undefined]> = [];
    for (const key of this.dirty) {
      const i = this.instances.get(key);
      out.push([
        key,
        i
          ? { ruleId: i.ruleId, deviceId: i.deviceId, ck: i.ck, cond: compactState(i.cond), alert: i.alert }
          : undefined,
      ]);
    }
    this.dirty.clear();
    return out;
  }

  restore(snapshot: InstanceSnapshot): void {
    const key = this.key(snapshot.ruleId, snapshot.deviceId);
    this.instances.set(key, { ...snapshot, last: snapshot.cond.last });
    // The next advance scans every instance (the version check), which files this one if it needs ticks.
    this.scannedVersion = -1;
    this.watermark = Math.max(this.watermark, snapshot.alert.evaluatedAt);
    if (snapshot.alert.status === 'firing') this.markFiring(snapshot.ruleId, snapshot.deviceId, true);
  }

  /** Current alerts (pending, firing, no data, error), for the API and tests. */
  active(): InstanceSnapshot[] {
    return [...this.instances.values()].filter((i) => isActive(i.alert.status));
  }

  key(ruleId: string, deviceId: string): string {
    return `${ruleId}|${deviceId}`;
  }

  private needsTicks(rule: AlertRule, instance: Instance): boolean {
    return isActive(instance.alert.status) || instance.alert.flapping || hasTimers(rule.condition);
  }

  private learnLabels(input: Extract<EngineInput, { type: 'sample' }>): void {
    const known = this.ruleSet.devices.get(input.deviceId);
    if (
      known &&
      Object.entries(input.labels!).every(([k, v]) => known.labels[k] !== undefined || v === undefined)
    )
      return;
    this.ruleSet.devices.set(input.deviceId, {
      deviceType: known?.deviceType ?? input.labels!['deviceType'] ?? input.labels!['device_type'] ?? null,
      labels: { ...input.labels, ...known?.labels },
    });
  }

  private rulesFor(deviceId: string): AlertRule[] {
    const cached = this.deviceRules.get(deviceId);
    const info = this.ruleSet.devices.get(deviceId);
    if (cached && cached.version === this.ruleSet.version && cached.info === info) return cached.rules;
    const rules = [...this.ruleSet.rules.values()].filter((r) => selectorMatches(r.selector, deviceId, info));
    this.deviceRules.set(deviceId, { version: this.ruleSet.version, info, rules });
    return rules;
  }

  private instance(rule: AlertRule, deviceId: string): Instance {
    const key = this.key(rule.id, deviceId);
    let instance = this.instances.get(key);
    if (!instance) {
      instance = { ruleId: rule.id, deviceId, cond: {}, alert: initialState(), last: undefined };
      this.instances.set(key, instance);
    }
    return instance;
  }

  private markFiring(ruleId: string, deviceId: string, firing: boolean): void {
    let set = this.ruleSet.firing.get(ruleId);
    if (!set) this.ruleSet.firing.set(ruleId, (set = new Set()));
    if (firing) set.add(deviceId);
    else set.delete(deviceId);
  }

  private apply(
    rule: AlertRule,
    instance: Instance,
    result: ConditionResult,
    ts: number,
    out: AlertTransition[],
    deleted?: { id: string },
  ): boolean {
    const change = applyResult(rule, instance.alert, result, ts);
    if (!change) return false;
    const ruleId = deleted?.id ?? rule.id;
    this.markFiring(ruleId, instance.deviceId, change.status === 'firing');
    out.push(this.transition(rule, instance, result, change.previous, change.ts, ruleId));
    return true;
  }

  private transition(
    rule: AlertRule,
    instance: Instance,
    result: ConditionResult,
    previous: AlertStatus,
    ts: number,
    ruleId: string,
  ): AlertTransition {
    if (result.explain && result.detail['explanation'] === undefined)
      result = { ...result, detail: { ...result.detail, explanation: result.explain() } };
    const info = this.ruleSet.devices.get(instance.deviceId);
    const deviceLabels = info?.labels ?? {};
    const base = rule.severity ?? 'warning';
    const { severity, reason } = contextSeverity(base, {
      deviceLabels,
      detail: result.detail,
      affectedDevices: this.ruleSet.firing.get(ruleId)?.size ?? 0,
    });
    const alertId = alertFingerprint(ruleId, instance.deviceId);
    const status = instance.alert.status;
    const labels: Record<string, string> = {
      ...Object.fromEntries(Object.entries(deviceLabels).filter(([k]) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k))),
      ...(info?.deviceType ? { device_type: info.deviceType } : {}),
      ...rule.labels,
      alertname: rule.name ?? ruleId,
      rule_id: ruleId,
      device: instance.deviceId,
      severity,
    };
    const values: Record<string, string> = {
      device: instance.deviceId,
      rule: rule.name ?? ruleId,
      value: formatValue(result.value),
      severity,
      status,
      ...Object.fromEntries(Object.entries(result.detail).map(([k, v]) => [k, String(v)])),
      ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`labels.${k}`, v])),
    };
    if (result.detail['timeToFailureMs'] !== undefined)
      values['timeToFailure'] = `${Math.round(Number(result.detail['timeToFailureMs']) / 60_000)} min`;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(rule.annotations ?? {})) annotations[k] = renderTemplate(v, values);
    annotations['severity_reason'] = reason;
    if (result.detail['explanation'] !== undefined)
      annotations['explanation'] = String(result.detail['explanation']);
    const title =
      annotations['summary'] ??
      `${rule.name ?? ruleId} on ${instance.deviceId}${result.value !== null ? `: ${values['value']}` : ''}`;
    const description =
      annotations['description'] ??
      `${String(result.detail['explanation'] ?? rule.condition?.kind ?? 'condition')}; severity ${severity} (${reason})`;
    return {
      eventId: `${alertId}:${instance.alert.seq}`,
      alertId,
      seq: instance.alert.seq,
      ruleId,
      ruleName: rule.name ?? ruleId,
      kind: rule.condition?.kind ?? 'deleted',
      deviceId: instance.deviceId,
      ts,
      status,
      previous,
      flapping: instance.alert.flapping,
      severity,
      severityReason: reason,
      value: result.value,
      labels,
      annotations,
      title,
      description,
    };
  }
}
