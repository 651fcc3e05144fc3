import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse } from 'yaml';
import { parseRule, RuleValidationError, type AlertRule } from './alert-rule.schema.js';

/**
 * Rules provisioned from YAML (GitOps, like Prometheus rule files or Grafana provisioning): a file holds
 * `rules: [...]` (or a single rule). Every problem of every file is collected, so one run names them all.
 */
export function readRuleFiles(path: string): AlertRule[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => ['.yaml', '.yml'].includes(extname(f)))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const rules: AlertRule[] = [];
  const problems: Array<{ field: string; message: string }> = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      problems.push({ field: file, message: `not valid YAML: ${(error as Error).message}` });
      continue;
    }
    const list = doc && typeof doc === 'object' && 'rules' in doc ? (doc as { rules: unknown }).rules : [doc];
    if (!Array.isArray(list)) {
      problems.push({ field: `${file}: rules`, message: 'expected a list of rules' });
      continue;
    }
    list.forEach((entry, i) => {
      try {
        const rule = parseRule(entry);
        const other = seen.get(rule.id);
        if (other) problems.push({ field: `${file}: rules[${i}].id`, message: `duplicate of ${other}` });
        seen.set(rule.id, `${file}: rules[${i}]`);
        rules.push(rule);
      } catch (error) {
        if (!(error instanceof RuleValidationError)) throw error;
        for (const p of error.problems)
          problems.push({ field: `${file}: rules[${i}].${p.field}`, message: p.message });
      }
    });
  }
  if (problems.length > 0) throw new RuleValidationError(problems);
  return rules;
}
