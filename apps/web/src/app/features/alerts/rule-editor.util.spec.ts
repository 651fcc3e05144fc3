import { describe, expect, it } from 'vitest';
import {
  parseRuleText,
  previewCounts,
  previewLanes,
  ruleProblems,
  type PreviewTransition,
} from './rule-editor.util';

const t = (alertId: string, ts: number, status: string, previous: string): PreviewTransition => ({
  alertId,
  deviceId: alertId.split('/')[1] ?? '',
  ts,
  status,
  previous,
  severity: 'major',
  value: 73,
  title: 'hot',
});

describe('ruleProblems', () => {
  it('splits the API message into problems by field', () => {
    expect(
      ruleProblems('invalid alert rule: condition.threshold: expected number; for: not a duration like 5m'),
    ).toEqual([
      { field: 'condition.threshold', message: 'expected number' },
      { field: 'for', message: 'not a duration like 5m' },
    ]);
  });

  it('keeps the range fields together and text without a field as one rule problem', () => {
    expect(ruleProblems('from, to: expected ISO times with from before to')).toEqual([
      { field: 'from, to', message: 'expected ISO times with from before to' },
    ]);
    expect(ruleProblems('alert rule pump-hot exists')).toEqual([
      { field: '(rule)', message: 'alert rule pump-hot exists' },
    ]);
  });
});

describe('parseRuleText', () => {
  it('refuses text that is not a JSON object', () => {
    expect(parseRuleText('[1]')).toEqual({ problem: { field: '(rule)', message: 'expected a JSON object' } });
    expect('problem' in parseRuleText('{id: 1')).toBe(true);
    expect(parseRuleText('{"id":"a"}')).toEqual({ rule: { id: 'a' } });
  });
});

describe('previewLanes', () => {
  const result = {
    rule: 'pump-hot',
    from: 0,
    to: 1000,
    inputs: 12,
    transitions: [
      t('pump-hot/p2', 500, 'pending', 'inactive'),
      t('pump-hot/p1', 100, 'pending', 'inactive'),
      t('pump-hot/p1', 200, 'firing', 'pending'),
      t('pump-hot/p1', 600, 'resolved', 'firing'),
      t('pump-hot/p2', 700, 'firing', 'pending'),
    ],
  };

  it('draws one lane per alert with each status lasting until the next transition or the range end', () => {
    expect(previewLanes(result)).toEqual([
      {
        alertId: 'pump-hot/p1',
        deviceId: 'p1',
        segments: [
          { status: 'pending', fromMs: 100, toMs: 200, left: 10, width: 10 },
          { status: 'firing', fromMs: 200, toMs: 600, left: 20, width: 40 },
        ],
      },
      {
        alertId: 'pump-hot/p2',
        deviceId: 'p2',
        segments: [
          { status: 'pending', fromMs: 500, toMs: 700, left: 50, width: 20 },
          { status: 'firing', fromMs: 700, toMs: 1000, left: 70, width: 30 },
        ],
      },
    ]);
    expect(previewCounts(result)).toEqual({ fired: 2, resolved: 1 });
  });

  it('clamps a transition before the range to its start', () => {
    const lanes = previewLanes({ ...result, from: 300, transitions: [t('a/x', 100, 'firing', 'pending')] });
    expect(lanes[0]!.segments).toEqual([{ status: 'firing', fromMs: 100, toMs: 1000, left: 0, width: 100 }]);
  });
});
