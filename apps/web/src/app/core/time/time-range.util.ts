/** A time range as it lives in the URL: relative (`now-1h` .. `now`) or absolute (ISO or epoch ms). */
export interface TimeRangeSpec {
  from: string;
  to: string;
}

export interface ResolvedRange {
  fromMs: number;
  toMs: number;
}

export const DEFAULT_RANGE: TimeRangeSpec = { from: 'now-1h', to: 'now' };

export const RELATIVE_PRESETS: ReadonlyArray<{ label: string; from: string }> = [
  { label: 'Last 5 minutes', from: 'now-5m' },
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last hour', from: 'now-1h' },
  { label: 'Last 6 hours', from: 'now-6h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `now`, `now-15m`, `now+1h`, epoch milliseconds or an ISO time; undefined when it is none of them. */
export function parseTime(text: string, nowMs: number): number | undefined {
  const value = text.trim();
  if (value === 'now') return nowMs;
  const relative = /^now([+-])(\d+)([smhdw])$/.exec(value);
  if (relative) {
    const delta = Number(relative[2]) * UNIT_MS[relative[3]!]!;
    return relative[1] === '-' ? nowMs - delta : nowMs + delta;
  }
  if (/^\d{10,14}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** Resolves a spec against the clock; an unparseable or inverted range falls back to the default. */
export function resolveRange(spec: TimeRangeSpec, nowMs: number): ResolvedRange {
  const fromMs = parseTime(spec.from, nowMs);
  const toMs = parseTime(spec.to, nowMs);
  if (fromMs === undefined || toMs === undefined || fromMs >= toMs) {
    return { fromMs: parseTime(DEFAULT_RANGE.from, nowMs)!, toMs: nowMs };
  }
  return { fromMs, toMs };
}

export function isRelative(spec: TimeRangeSpec): boolean {
  return spec.to === 'now' && spec.from.startsWith('now');
}

/** How a range reads in the picker's button. */
export function describeRange(spec: TimeRangeSpec): string {
  const preset = RELATIVE_PRESETS.find((p) => p.from === spec.from && spec.to === 'now');
  if (preset) return preset.label;
  const fmt = (t: string) => {
    const ms = parseTime(t, Date.now());
    return ms === undefined
      ? t
      : t.startsWith('now')
        ? t
        : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  };
  return `${fmt(spec.from)} → ${fmt(spec.to)}`;
}

export const REFRESH_CHOICES = ['off', '10s', '1m'] as const;
export type RefreshChoice = (typeof REFRESH_CHOICES)[number];

export function refreshIntervalMs(choice: RefreshChoice): number | undefined {
  return choice === '10s' ? 10_000 : choice === '1m' ? 60_000 : undefined;
}

/** A bucket width giving about `points` buckets over the range, rounded to a readable step. */
export function niceStepSeconds(range: ResolvedRange, points = 300): number {
  const raw = (range.toMs - range.fromMs) / 1000 / points;
  const steps = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  return steps.find((s) => s >= raw) ?? 86400;
}
