import { matchesAll, parseMatcher, type LabelMatcher, type Labels } from './label-matcher.util.js';

export interface InhibitRuleConfig {
  sourceMatchers: string[];
  targetMatchers: string[];
  /** Labels that must be equal on source and target (e.g. device, or site). */
  equal: string[];
}

interface Compiled {
  source: LabelMatcher[];
  target: LabelMatcher[];
  equal: string[];
}

/**
 * Alertmanager's inhibitor: a firing source alert mutes target alerts that share the `equal` labels, e.g. a
 * device offline inhibits that device's metric alerts, a site-wide alert inhibits its devices' alerts.
 */
export class Inhibitor {
  private readonly rules: Compiled[];

  constructor(rules: InhibitRuleConfig[]) {
    this.rules = rules.map((r) => ({
      source: r.sourceMatchers.map(parseMatcher),
      target: r.targetMatchers.map(parseMatcher),
      equal: r.equal,
    }));
  }

  /** Fingerprint of the alert inhibiting `labels`, if any, among the firing alerts. */
  inhibitedBy(
    fingerprint: string,
    labels: Labels,
    firing: ReadonlyArray<{ fingerprint: string; labels: Labels }>,
  ): string | undefined {
    for (const rule of this.rules) {
      if (!matchesAll(rule.target, labels)) continue;
      for (const source of firing) {
        if (source.fingerprint === fingerprint) continue;
        if (!matchesAll(rule.source, source.labels)) continue;
        if (rule.equal.every((l) => (source.labels[l] ?? '') === (labels[l] ?? '')))
          return source.fingerprint;
      }
    }
    return undefined;
  }
}
