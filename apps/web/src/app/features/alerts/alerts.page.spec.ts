import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApi } from '../../../testing/fake-api';
import { all, queryParams, renderRoute, text, type } from '../../../testing/harness';
import AlertsPage from './alerts.page';

const firing = {
  alertId: 'a-1',
  timestampMs: Date.parse('2026-11-30T10:00:00Z'),
  state: 'active',
  severity: 'CRITICAL',
  status: 'FIRING',
  ruleId: 'hot-bearing',
  ruleName: 'Hot bearing',
  deviceId: 'pump-001',
  title: 'bearing above 72 C',
  flapping: false,
  assignee: null,
  comment: null,
};

describe('AlertsPage', () => {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi()
      .on('GET', '/api/alerting/alerts', (req) =>
        req.query.get('state') === 'all'
          ? [firing, { ...firing, alertId: 'a-0', status: 'RESOLVED' }]
          : [firing],
      )
      .on('GET', '/api/alerting/silences', () => [])
      .on('POST', '/api/alerting/alerts/a-1/ack', () => ({ status: 204 }))
      .on('POST', '/api/alerting/silences', () => ({ id: 's-1' }))
      .install();
  });
  afterEach(() => api.uninstall());

  it('lists alerts with severity and status; "include resolved" asks for all and goes to the URL', async () => {
    const { root, refresh } = await renderRoute(api, {
      path: 'alerts',
      component: AlertsPage,
      url: '/alerts',
      role: 'viewer',
    });
    const rows = all(root, '[data-testid="alert-row"]');
    expect(rows.map((r) => all(r, 'td').slice(1, 5).map(text))).toEqual([
      ['CRITICAL', 'FIRING', 'Hot bearing bearing above 72 C', 'pump-001'],
    ]);
    // A viewer gets no change buttons (the API refuses them too).
    expect(root.querySelectorAll('form')).toHaveLength(0);
    const include = root.querySelector('input[type="checkbox"]') as HTMLInputElement;
    include.checked = true;
    include.dispatchEvent(new Event('change'));
    await refresh();
    expect(all(root, '[data-testid="alert-row"]')).toHaveLength(2);
    expect(queryParams()['state']).toBe('all');
    expect(api.calls('GET', '/api/alerting/alerts').at(-1)!.authorization).toBe('Bearer token-viewer');
  });

  it('an operator acknowledges with a comment and silences with matchers prefilled from the alert', async () => {
    const { root, refresh } = await renderRoute(api, {
      path: 'alerts',
      component: AlertsPage,
      url: '/alerts',
      role: 'operator',
    });
    const ack = root.querySelector('[data-testid="alert-row"] form') as HTMLFormElement;
    type(ack.querySelector('input[name="comment"]'), 'replacing the bearing');
    ack.dispatchEvent(new Event('submit', { cancelable: true }));
    await refresh();
    expect(api.calls('POST', '/api/alerting/alerts/a-1/ack')[0]!.body).toEqual({
      comment: 'replacing the bearing',
    });
    expect(text(root.querySelector('p[role="status"]'))).toBe('Acknowledged bearing above 72 C.');

    (all(root, 'button').find((b) => text(b) === 'Silence…') as HTMLButtonElement).click();
    await refresh();
    const form = root.querySelector('form.silence') as HTMLFormElement;
    expect((form.querySelector('textarea') as HTMLTextAreaElement).value).toBe(
      'ruleId="hot-bearing"\ndeviceId="pump-001"',
    );
    type(form.querySelector('input[name="comment"]'), 'maintenance');
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await refresh();
    expect(api.calls('POST', '/api/alerting/silences')[0]!.body).toEqual({
      matchers: ['ruleId="hot-bearing"', 'deviceId="pump-001"'],
      duration: '1h',
      comment: 'maintenance',
    });
  });
});
