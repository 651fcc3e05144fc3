import type { AlertRuleRecord } from '@sentio/events';
import type { RuleSet } from '../evaluation/alert-engine.js';
import { parseRule, RuleValidationError, type AlertRule } from './alert-rule.schema.js';

export interface CatalogEntry {
  record: AlertRuleRecord;
  rule: AlertRule | undefined;
  /** A record that no longer validates (e.g. written by a newer version) is kept visible, not evaluated. */
  error: string | undefined;
}

const KINDS: Record<string, AlertRuleRecord['kind']> = {
  threshold: 'THRESHOLD',
  nodata: 'NODATA',
  anomaly: 'ANOMALY',
  forecast: 'FORECAST',
  log: 'LOG',
  composite: 'COMPOSITE',
};

/** Canonical JSON of a rule (sorted keys), so "unchanged" is a string comparison. */
export function canonicalRule(rule: AlertRule): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(rule));
}

export function ruleRecord(
  rule: AlertRule,
  previous: AlertRuleRecord | undefined,
  change: {
    by: string;
    source: 'API' | 'PROVISIONED';
    sourceFile?: string | null;
    deleted?: boolean;
    at?: number;
  },
): AlertRuleRecord {
  return {
    ruleId: rule.id,
    revision: (previous ? Number(previous.revision) : 0) + 1,
    name: rule.name,
    kind: KINDS[rule.condition.kind] ?? 'UNKNOWN',
    paused: rule.paused,
    deleted: change.deleted ?? false,
    definition: canonicalRule(rule),
    source: change.source,
    sourceFile: change.sourceFile ?? null,
    updatedAtMs: change.at ?? Date.now(),
    updatedBy: change.by,
  };
}

/** The rules topic folded into current rules; keeps a RuleSet (the evaluator's view) in line. */
export class RuleCatalog {
  readonly entries = new Map<string, CatalogEntry>();

  constructor(private readonly ruleSet?: RuleSet) {}

  apply(record: AlertRuleRecord): void {
    let rule: AlertRule | undefined;
    let error: string | undefined;
    try {
      rule = parseRule(JSON.parse(record.definition));
    } catch (e) {
      error = e instanceof RuleValidationError || e instanceof SyntaxError ? e.message : String(e);
    }
    this.entries.set(record.ruleId, { record, rule, error });
    if (!this.ruleSet) return;
    if (record.deleted || !rule) this.ruleSet.delete(record.ruleId);
    else this.ruleSet.set(rule);
  }

  get(id: string): CatalogEntry | undefined {
    return this.entries.get(id);
  }

  list(includeDeleted = false): CatalogEntry[] {
    return [...this.entries.values()]
      .filter((e) => includeDeleted || !e.record.deleted)
      .sort((a, b) => a.record.ruleId.localeCompare(b.record.ruleId));
  }
}
