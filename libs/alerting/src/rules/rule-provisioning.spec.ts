import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RuleValidationError } from './alert-rule.schema.js';
import { readRuleFiles } from './rule-provisioning.js';

describe('rule provisioning from YAML', () => {
  it('reads the plant rules shipped for sentio up', () => {
    const rules = readRuleFiles(resolve(import.meta.dirname, '../../rules/plant.yaml'));
    expect(rules.map((r) => r.id)).toEqual([
      'pump-bearing-hot',
      'pump-anomaly',
      'bearing-failing-soon',
      'device-silent',
    ]);
    expect(rules[0]!.for).toBe(60_000);
  });

  it('names the file, the rule and the field of every problem, and refuses duplicate ids', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentio-rules-'));
    writeFileSync(
      join(dir, 'a.yaml'),
      'rules:\n  - { id: ok, name: OK, condition: { kind: nodata, silentFor: 1m } }\n  - { id: bad, name: Bad, condition: { kind: threshold, metric: t, threshold: 1, window: forever } }\n',
    );
    writeFileSync(
      join(dir, 'b.yml'),
      'rules:\n  - { id: ok, name: Again, condition: { kind: anomaly } }\n  - { id: x, name: X, condition: { kind: anomaly }, severity: huge }\n',
    );
    try {
      readRuleFiles(dir);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RuleValidationError);
      const fields = (error as RuleValidationError).problems.map((p) => p.field);
      expect(fields).toEqual([
        `${join(dir, 'a.yaml')}: rules[1].condition.window`,
        `${join(dir, 'b.yml')}: rules[0].id`,
        `${join(dir, 'b.yml')}: rules[1].severity`,
      ]);
    }
  });
});
