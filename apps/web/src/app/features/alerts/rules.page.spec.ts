import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApi } from '../../../testing/fake-api';
import { all, renderRoute, text, type } from '../../../testing/harness';
import RulesPage from './rules.page';

const rule = {
  id: 'hot-bearing',
  name: 'Hot bearing',
  condition: {
    kind: 'threshold',
    metric: 'bearing_temperature',
    aggregation: 'avg',
    window: '1m',
    op: '>',
    threshold: 72,
  },
  for: '1m',
  severity: 'major',
};
const record = {
  ruleId: 'hot-bearing',
  revision: 3,
  name: 'Hot bearing',
  kind: 'threshold',
  paused: false,
  deleted: false,
  definition: JSON.stringify(rule),
  source: 'API',
  sourceFile: null,
  updatedAtMs: Date.parse('2026-11-30T09:00:00Z'),
  updatedBy: 'ops',
};

describe('RulesPage', () => {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi()
      .on('GET', '/api/alerting/rules', () => [
        record,
        { ...record, ruleId: 'gone', name: 'Gone', deleted: true },
      ])
      .on('POST', '/api/alerting/rules/preview', (req) => {
        const { from, to } = req.body as { from: string; to: string };
        const t0 = Date.parse(from);
        return {
          rule: 'hot-bearing',
          from: t0,
          to: Date.parse(to),
          inputs: 120,
          transitions: [
            {
              alertId: 'x',
              deviceId: 'pump-001',
              ts: t0 + 60_000,
              status: 'FIRING',
              previous: 'PENDING',
              severity: 'major',
              value: 75,
              title: 'hot',
            },
            {
              alertId: 'x',
              deviceId: 'pump-001',
              ts: t0 + 120_000,
              status: 'RESOLVED',
              previous: 'FIRING',
              severity: 'major',
              value: 70,
              title: 'hot',
            },
          ],
        };
      })
      .on('PUT', '/api/alerting/rules/hot-bearing', () => ({
        status: 400,
        body: { message: 'invalid alert rule: condition.threshold: must be a number' },
      }))
      .install();
  });
  afterEach(() => api.uninstall());

  const editor = (root: HTMLElement) => root.querySelector('#rule-text') as HTMLTextAreaElement;
  const button = (root: HTMLElement, label: string) =>
    all(root, 'button').find((b) => text(b) === label) as HTMLButtonElement;

  it('lists live rules; the rule in the URL is in the editor; Preview backtests it over the time range', async () => {
    const { root, refresh } = await renderRoute(api, {
      path: 'alerts/rules',
      component: RulesPage,
      url: '/alerts/rules?rule=hot-bearing&from=now-6h',
      role: 'viewer',
    });
    expect(all(root, '[data-testid="rule-row"]').map((r) => text(r.querySelector('td')))).toEqual([
      'Hot bearing · hot-bearing',
    ]);
    expect(JSON.parse(editor(root).value)).toEqual(rule);
    // A viewer may preview but sees no change buttons.
    expect(button(root, 'Pause')).toBeUndefined();
    expect(text(button(root, 'View'))).toBe('View');
    button(root, 'Preview').click();
    await refresh();
    const sent = api.calls('POST', '/api/alerting/rules/preview')[0]!.body as {
      rule: unknown;
      from: string;
      to: string;
    };
    expect(sent.rule).toEqual(rule);
    expect(Date.parse(sent.to) - Date.parse(sent.from)).toBe(6 * 3_600_000);
    expect(text(root.querySelector('[data-testid="preview-summary"]'))).toMatch(
      /^120 inputs; would have fired 1 and resolved 1 times/,
    );
    expect(
      all(root, '[data-testid="preview-transition"]').map((r) => text(r.querySelectorAll('td')[2]!)),
    ).toEqual(['PENDING → FIRING', 'FIRING → RESOLVED']);
  });

  it('names the field of a JSON mistake before sending, and the API’s field problems after saving', async () => {
    const { root, refresh } = await renderRoute(api, {
      path: 'alerts/rules',
      component: RulesPage,
      url: '/alerts/rules?rule=hot-bearing',
      role: 'operator',
    });
    type(editor(root), '{ "id": ');
    await refresh();
    button(root, 'Preview').click();
    await refresh();
    expect(all(root, '[data-testid="rule-problem"]')).toHaveLength(1);
    expect(api.calls('POST', '/api/alerting/rules/preview')).toHaveLength(0);
    expect(editor(root).getAttribute('aria-invalid')).toBe('true');

    type(editor(root), JSON.stringify({ ...rule, condition: { ...rule.condition, threshold: 'hot' } }));
    await refresh();
    (root.querySelector('form.editor') as HTMLFormElement).dispatchEvent(
      new Event('submit', { cancelable: true }),
    );
    await refresh();
    expect(api.calls('PUT', '/api/alerting/rules/hot-bearing')).toHaveLength(1);
    expect(all(root, '[data-testid="rule-problem"]').map(text)).toEqual([
      'condition.threshold must be a number',
    ]);
  });
});
