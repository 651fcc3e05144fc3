/** One problem the alerting API found in a rule, by field (`condition.threshold`, `for`, ...). */
export interface RuleProblem {
  field: string;
  message: string;
}

/** A transition of the backtest (the fields the console draws). */
export interface PreviewTransition {
  alertId: string;
  deviceId: string;
  ts: number;
  status: string;
  previous: string;
  severity: string;
  value: number | null;
  title: string;
}

export interface PreviewResult {
  rule: string;
  from: number;
  to: number;
  inputs: number;
  transitions: PreviewTransition[];
}

/** A stretch of one alert in one status, placed on the preview range in percent. */
export interface PreviewSegment {
  status: string;
  fromMs: number;
  toMs: number;
  left: number;
  width: number;
}

export interface PreviewLane {
  alertId: string;
  deviceId: string;
  segments: PreviewSegment[];
}

const PREFIX = /^invalid alert rule(?: in [^:]+)?:\s*/;

/**
 * The API answers a bad rule with `field: message; field: message` (RuleValidationError or zod): split it so
 * the editor shows each message beside the field it names. Text without a field stays one `(rule)` problem.
 */
export function ruleProblems(message: string): RuleProblem[] {
  const body = message.replace(PREFIX, '').trim();
  if (!body) return [];
  return body.split('; ').map((part) => {
    const match = /^([A-Za-z_(][\w.[\]()-]*(?:, [\w.[\]-]+)*): (.+)$/s.exec(part);
    return match ? { field: match[1]!, message: match[2]! } : { field: '(rule)', message: part };
  });
}

/** Reads the editor's text: a JSON object in the API's rule shape, or a clear problem. */
export function parseRuleText(text: string): { rule: Record<string, unknown> } | { problem: RuleProblem } {
  try {
    const rule = JSON.parse(text) as unknown;
    if (!rule || typeof rule !== 'object' || Array.isArray(rule))
      return { problem: { field: '(rule)', message: 'expected a JSON object' } };
    return { rule: rule as Record<string, unknown> };
  } catch (error) {
    return { problem: { field: '(rule)', message: `not JSON: ${(error as Error).message}` } };
  }
}

/**
 * The backtest's transitions as one lane per alert: each transition starts a segment in its status that
 * lasts until the alert's next transition (or the end of the range), placed in percent of [from, to].
 */
export function previewLanes(result: PreviewResult): PreviewLane[] {
  const span = Math.max(result.to - result.from, 1);
  const pct = (ts: number) => (Math.min(Math.max(ts, result.from), result.to) - result.from) / span;
  const byAlert = new Map<string, PreviewTransition[]>();
  for (const t of [...result.transitions].sort((a, b) => a.ts - b.ts)) {
    const list = byAlert.get(t.alertId) ?? [];
    list.push(t);
    byAlert.set(t.alertId, list);
  }
  return [...byAlert.entries()].map(([alertId, list]) => ({
    alertId,
    deviceId: list[0]!.deviceId,
    segments: list
      .map((t, i) => {
        const end = list[i + 1]?.ts ?? result.to;
        return {
          status: t.status,
          fromMs: t.ts,
          toMs: end,
          left: round(pct(t.ts) * 100),
          width: round((pct(end) - pct(t.ts)) * 100),
        };
      })
      .filter((s) => !ENDED.has(s.status.toLowerCase())),
  }));
}

/** How many alerts the rule would have fired and how many of those resolved in the range. */
export function previewCounts(result: PreviewResult): { fired: number; resolved: number } {
  return {
    fired: result.transitions.filter(
      (t) => t.status.toLowerCase() === 'firing' && t.previous.toLowerCase() !== 'firing',
    ).length,
    resolved: result.transitions.filter((t) => t.status.toLowerCase() === 'resolved').length,
  };
}

/** Statuses after which an alert is not drawn (the engine reports them lowercase). */
const ENDED = new Set(['resolved', 'inactive']);
const round = (n: number) => Math.round(n * 100) / 100;
