import type {
  AnomalyCondition,
  Condition,
  ForecastCondition,
  LogCondition,
  NoDataCondition,
  SimpleCondition,
  ThresholdCondition,
} from '../rules/alert-rule.schema.js';
import type { ConditionResult, EngineInput } from './engine-input.type.js';

/**
 * One condition on one device, evaluated in event time. Its state is plain JSON so the engine can snapshot
 * it to the compacted state topic and restore it after a restart or a rebalance.
 */
interface Bucket {
  s: number; // bucket start
  n: number;
  sum: number;
  min: number;
  max: number;
  ft: number; // first sample time and value (rate of change)
  fv: number;
  lt: number;
  lv: number;
}

export interface ConditionState {
  /** Threshold: sub-window buckets. */
  b?: Bucket[];
  /** Anomaly / log: times of hits within the window; anomaly also the scores. */
  h?: number[];
  hv?: number[];
  /** No data: last time the metric was seen, and whether its last value was BAD. */
  seen?: number;
  bad?: boolean;
  /** Last result, so ticks and composites can reuse it. */
  last?: ConditionResult;
  /** Composite: one state per sub-condition. */
  sub?: ConditionState[];
}

const BUCKETS = 10;
const RISK_RANK = { NONE: 0, LOW: 1, MEDIUM: 2, HIGH: 3 } as const;
const LOG_RANK: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };

function compare(value: number, op: string, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    default:
      return value <= threshold;
  }
}

const regexCache = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

/** Whether an input concerns this condition at all (so unrelated events cost nothing). */
export function conditionAccepts(condition: Condition, input: EngineInput): boolean {
  switch (condition.kind) {
    case 'threshold':
      return input.type === 'sample' && input.metric === condition.metric;
    case 'nodata':
      return input.type === 'sample' && (condition.metric === undefined || input.metric === condition.metric);
    case 'anomaly':
      return input.type === 'anomaly';
    case 'forecast':
      return (
        input.type === 'forecast' && (condition.metric === undefined || input.metric === condition.metric)
      );
    case 'log':
      return input.type === 'log';
    case 'composite':
      return condition.conditions.some((c) => conditionAccepts(c, input));
  }
}

/** Feeds one input; returns the condition's result at the input's time. `active`: the alert is pending or firing (hysteresis). */
export function evaluateInput(
  condition: Condition,
  state: ConditionState,
  input: EngineInput,
  active: boolean,
): ConditionResult {
  let result: ConditionResult;
  switch (condition.kind) {
    case 'threshold':
      result = input.type === 'sample' ? threshold(condition, state, input, active) : current(state);
      break;
    case 'nodata':
      result = input.type === 'sample' ? noDataSample(condition, state, input) : current(state);
      break;
    case 'anomaly':
      result = input.type === 'anomaly' ? anomaly(condition, state, input) : current(state);
      break;
    case 'forecast':
      result = input.type === 'forecast' ? forecast(condition, input) : current(state);
      break;
    case 'log':
      result = input.type === 'log' ? logPattern(condition, state, input) : current(state);
      break;
    case 'composite': {
      state.sub ??= condition.conditions.map(() => ({}));
      condition.conditions.forEach((c, i) => {
        if (conditionAccepts(c, input)) evaluateInput(c, state.sub![i]!, input, active);
      });
      result = combine(condition.op, condition.conditions, state.sub);
      break;
    }
  }
  state.last = result;
  return result;
}

/** Re-evaluates at event time `now` without new input: windows expire, silences grow long. */
export function evaluateTick(
  condition: Condition,
  state: ConditionState,
  now: number,
  active: boolean,
): ConditionResult | undefined {
  let result: ConditionResult | undefined;
  switch (condition.kind) {
    case 'threshold':
      result = thresholdTick(condition, state, now, active);
      break;
    case 'nodata':
      result = noDataTick(condition, state, now);
      break;
    case 'anomaly':
      result = hitsTick(state, now, condition.within, condition.windows, 'windows');
      break;
    case 'log':
      result = hitsTick(state, now, condition.window, condition.count, 'count');
      break;
    case 'forecast':
      result = state.last;
      break;
    case 'composite': {
      if (!state.sub) return undefined;
      condition.conditions.forEach((c, i) => evaluateTick(c, state.sub![i]!, now, active));
      result = combine(condition.op, condition.conditions, state.sub);
      break;
    }
  }
  if (result) state.last = result;
  return result;
}

function current(state: ConditionState): ConditionResult {
  return state.last ?? { status: 'normal', value: null, detail: {} };
}

function combine(op: 'and' | 'or', conditions: SimpleCondition[], subs: ConditionState[]): ConditionResult {
  const results = subs.map((s) => s.last ?? { status: 'normal' as const, value: null, detail: {} });
  const alerting = results.map((r) => r.status === 'alerting');
  const holds = op === 'and' ? alerting.every(Boolean) : alerting.some(Boolean);
  const detail: Record<string, string | number> = {};
  results.forEach((r, i) => {
    for (const [k, v] of Object.entries(r.detail)) detail[`${i}.${k}`] = v;
    detail[`${i}.status`] = r.status;
  });
  const lead = results.find((r) => r.status === 'alerting') ?? results[0]!;
  for (const [k, v] of Object.entries(lead.detail)) detail[k] ??= v;
  detail['explanation'] = conditions
    .map((c, i) => `${c.kind}${'metric' in c && c.metric ? ` ${c.metric}` : ''}: ${results[i]!.status}`)
    .join(op === 'and' ? ' AND ' : ' OR ');
  return { status: holds ? 'alerting' : 'normal', value: lead.value, detail };
}

function threshold(
  c: ThresholdCondition,
  state: ConditionState,
  input: Extract<EngineInput, { type: 'sample' }>,
  active: boolean,
): ConditionResult {
  if (input.value === null || input.quality === 'BAD' || !Number.isFinite(input.value)) return current(state);
  const size = Math.max(1, Math.ceil(c.window / BUCKETS));
  const start = input.ts - (input.ts % size);
  const buckets = (state.b ??= []);
  // Newest first: samples mostly land in the latest bucket.
  let bucket: Bucket | undefined;
  for (let i = buckets.length - 1; i >= 0; i--)
    if (buckets[i]!.s === start) {
      bucket = buckets[i];
      break;
    }
  if (!bucket) {
    bucket = {
      s: start,
      n: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      ft: input.ts,
      fv: input.value,
      lt: input.ts,
      lv: input.value,
    };
    buckets.push(bucket);
    buckets.sort((a, b) => a.s - b.s);
  }
  bucket.n++;
  bucket.sum += input.value;
  bucket.min = Math.min(bucket.min, input.value);
  bucket.max = Math.max(bucket.max, input.value);
  if (input.ts < bucket.ft) [bucket.ft, bucket.fv] = [input.ts, input.value];
  if (input.ts >= bucket.lt) [bucket.lt, bucket.lv] = [input.ts, input.value];
  // `last` needs only the bucket of the newest sample: older ones change neither the value nor the window's
  // end, and they would be carried in every state snapshot (ten buckets instead of one).
  if (c.aggregation === 'last' && buckets.length > 1)
    state.b = [buckets.reduce((a, b) => (b.lt >= a.lt ? b : a))];
  let now = input.ts;
  for (const b of state.b ?? []) if (b.lt > now) now = b.lt;
  return thresholdAt(c, state, now, active) ?? current(state);
}

function thresholdTick(
  c: ThresholdCondition,
  state: ConditionState,
  now: number,
  active: boolean,
): ConditionResult | undefined {
  if (!state.b || state.b.length === 0) return undefined;
  const result = thresholdAt(c, state, now, active);
  // The window emptied: while the alert is active this is "no data", not "resolved".
  if (!result) return active ? { status: 'nodata', value: null, detail: { metric: c.metric } } : undefined;
  return result;
}

function thresholdAt(
  c: ThresholdCondition,
  state: ConditionState,
  now: number,
  active: boolean,
): ConditionResult | undefined {
  const size = Math.max(1, Math.ceil(c.window / BUCKETS));
  // Buckets wholly before the window are dropped; the window is aligned to buckets (1/10 of it).
  // Only when something expired: this runs for every sample.
  if (state.b!.length > 0 && state.b![0]!.s + size <= now - c.window)
    state.b = state.b!.filter((b) => b.s + size > now - c.window);
  const buckets = state.b!;
  if (buckets.length === 0) return undefined;
  let value: number;
  switch (c.aggregation) {
    case 'avg':
      value = buckets.reduce((s, b) => s + b.sum, 0) / buckets.reduce((s, b) => s + b.n, 0);
      break;
    case 'min':
      value = Math.min(...buckets.map((b) => b.min));
      break;
    case 'max':
      value = Math.max(...buckets.map((b) => b.max));
      break;
    case 'last':
      value = buckets.reduce((a, b) => (b.lt >= a.lt ? b : a)).lv;
      break;
    case 'rate': {
      const first = buckets.reduce((a, b) => (b.ft < a.ft ? b : a));
      const last = buckets.reduce((a, b) => (b.lt >= a.lt ? b : a));
      const seconds = (last.lt - first.ft) / 1000;
      if (seconds <= 0) return state.last;
      value = (last.lv - first.fv) / seconds;
      break;
    }
  }
  const bound = active && c.clearThreshold !== undefined ? c.clearThreshold : c.threshold;
  return {
    status: compare(value, c.op, bound) ? 'alerting' : 'normal',
    value,
    detail: {
      metric: c.metric,
      aggregation: c.aggregation,
      threshold: c.threshold,
      ...(c.clearThreshold !== undefined ? { clearThreshold: c.clearThreshold } : {}),
      op: c.op,
    },
    // Built only for a transition: this runs for every sample. While active the comparison is with the clear
    // threshold (hysteresis); the explanation still names the limit the rule sets, not the clear threshold.
    explain: () => {
      const head = `${c.aggregation}(${c.metric}) over ${c.window / 1000}s = ${round(value)}`;
      if (bound === c.threshold || compare(value, c.op, c.threshold)) return `${head} ${c.op} ${c.threshold}`;
      return compare(value, c.op, bound)
        ? `${head}, not yet clear (clears at ${bound}, fires ${c.op} ${c.threshold})`
        : `${head}, clear of ${bound}`;
    },
  };
}

function noDataSample(
  c: NoDataCondition,
  state: ConditionState,
  input: Extract<EngineInput, { type: 'sample' }>,
): ConditionResult {
  state.seen = Math.max(state.seen ?? 0, input.ts);
  state.bad = c.badQuality && input.quality === 'BAD';
  return state.bad
    ? {
        status: 'alerting',
        value: null,
        detail: { metric: input.metric, explanation: `${input.metric} quality BAD` },
      }
    : { status: 'normal', value: 0, detail: { metric: c.metric ?? input.metric } };
}

function noDataTick(c: NoDataCondition, state: ConditionState, now: number): ConditionResult | undefined {
  if (state.seen === undefined) return undefined;
  if (state.bad) return state.last;
  const silent = now - state.seen;
  if (silent < c.silentFor) return state.last;
  return {
    status: 'alerting',
    value: silent,
    detail: {
      metric: c.metric ?? 'any',
      silentForMs: silent,
      explanation: `no ${c.metric ?? 'data'} for ${Math.round(silent / 1000)}s (limit ${c.silentFor / 1000}s)`,
    },
  };
}

function anomaly(
  c: AnomalyCondition,
  state: ConditionState,
  input: Extract<EngineInput, { type: 'anomaly' }>,
): ConditionResult {
  const limit = c.minScore ?? input.threshold;
  if (input.score >= limit) {
    (state.h ??= []).push(input.ts);
    (state.hv ??= []).push(input.score / Math.max(limit, 1e-12));
  }
  return hitsTick(state, input.ts, c.within, c.windows, 'windows', input) ?? current(state);
}

function logPattern(
  c: LogCondition,
  state: ConditionState,
  input: Extract<EngineInput, { type: 'log' }>,
): ConditionResult {
  if ((LOG_RANK[input.severity] ?? 0) >= LOG_RANK[c.minSeverity]! && regex(c.pattern).test(input.body)) {
    (state.h ??= []).push(input.ts);
    (state.hv ??= []).push(1);
  }
  const result = hitsTick(state, input.ts, c.window, c.count, 'count');
  if (result) result.detail['pattern'] = c.pattern;
  return result ?? current(state);
}

function hitsTick(
  state: ConditionState,
  now: number,
  window: number,
  needed: number,
  what: string,
  anomalyInput?: Extract<EngineInput, { type: 'anomaly' }>,
): ConditionResult | undefined {
  if (!state.h) return undefined;
  while (state.h.length > 0 && state.h[0]! <= now - window) {
    state.h.shift();
    state.hv?.shift();
  }
  const count = state.h.length;
  const ratio = state.hv && state.hv.length > 0 ? Math.max(...state.hv) : 0;
  return {
    status: count >= needed ? 'alerting' : 'normal',
    value: anomalyInput ? anomalyInput.score : count,
    detail: {
      [what]: count,
      needed,
      ...(anomalyInput ? { score: round(anomalyInput.score), scoreRatio: round(ratio) } : {}),
      ...(anomalyInput?.topMetric ? { metric: anomalyInput.topMetric } : {}),
      explanation: `${count} ${what === 'windows' ? 'anomalous windows' : 'matching logs'} in ${window / 1000}s (needs ${needed})`,
    },
  };
}

function forecast(c: ForecastCondition, input: Extract<EngineInput, { type: 'forecast' }>): ConditionResult {
  const riskHit = c.minRisk !== undefined && RISK_RANK[input.risk] >= RISK_RANK[c.minRisk];
  const ttfHit =
    c.timeToFailureUnder !== undefined &&
    input.timeToFailureMs !== null &&
    input.timeToFailureMs <= c.timeToFailureUnder;
  return {
    status: riskHit || ttfHit ? 'alerting' : 'normal',
    value: input.timeToFailureMs,
    detail: {
      metric: input.metric,
      risk: input.risk,
      ...(input.timeToFailureMs !== null ? { timeToFailureMs: input.timeToFailureMs } : {}),
      explanation: `forecast of ${input.metric}: risk ${input.risk}${
        input.timeToFailureMs !== null
          ? `, time to failure ${Math.round(input.timeToFailureMs / 60_000)} min`
          : ''
      }`,
    },
  };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
