import { matchesAll, parseMatcher, type LabelMatcher, type Labels } from './label-matcher.util.js';

/** A silence as stored on the silences topic (JSON) and shown by the API. */
export interface Silence {
  id: string;
  matchers: string[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy: string;
  /** Recurring maintenance window inside [startsAt, endsAt]: on these UTC weekdays (0 = Sunday), from `start` (HH:MM) for `durationMs`. */
  recurring?: { weekdays: number[]; start: string; durationMs: number } | undefined;
  /** Expired early through the API. */
  expired?: boolean | undefined;
}

interface Compiled {
  silence: Silence;
  matchers: LabelMatcher[];
}

export function validateSilence(s: Silence): void {
  if (!s.matchers?.length) throw new Error('matchers: at least one matcher is needed');
  s.matchers.forEach((m, i) => {
    try {
      parseMatcher(m);
    } catch (error) {
      throw new Error(`matchers[${i}]: ${(error as Error).message}`, { cause: error });
    }
  });
  if (!(s.endsAt > s.startsAt)) throw new Error('endsAt: must be after startsAt');
  if (s.recurring) {
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(s.recurring.start))
      throw new Error('recurring.start: expected HH:MM (UTC)');
    if (!s.recurring.weekdays.every((d) => Number.isInteger(d) && d >= 0 && d <= 6))
      throw new Error('recurring.weekdays: expected 0 (Sunday) to 6');
    if (!(s.recurring.durationMs > 0 && s.recurring.durationMs <= 7 * 86_400_000))
      throw new Error('recurring.duration: expected more than 0 and at most 7 days');
  }
}

/** Whether the silence is in force at `now` (for a recurring one: inside one of its windows). */
export function silenceActive(s: Silence, now: number): boolean {
  if (s.expired || now < s.startsAt || now >= s.endsAt) return false;
  if (!s.recurring) return true;
  const [h, m] = s.recurring.start.split(':').map(Number) as [number, number];
  const day = new Date(now);
  // A window may have begun on one of the previous days and still be open.
  for (let back = 0; back <= 7; back++) {
    const start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() - back, h, m);
    if (!s.recurring.weekdays.includes(new Date(start).getUTCDay())) continue;
    if (now >= start && now < start + s.recurring.durationMs) return true;
  }
  return false;
}

/** Silences as a Muter (Alertmanager's silence.Silencer). */
export class Silences {
  private readonly byId = new Map<string, Compiled>();

  upsert(silence: Silence): void {
    this.byId.set(silence.id, { silence, matchers: silence.matchers.map(parseMatcher) });
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  list(): Silence[] {
    return [...this.byId.values()].map((c) => c.silence);
  }

  /** Ids of silences muting these labels at `now`. */
  mutedBy(labels: Labels, now: number): string[] {
    const out: string[] = [];
    for (const { silence, matchers } of this.byId.values())
      if (silenceActive(silence, now) && matchesAll(matchers, labels)) out.push(silence.id);
    return out;
  }
}
