import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stubCharts, ChartStub } from '../../../testing/chart.stub';
import { FakeApi } from '../../../testing/fake-api';
import { all, queryParams, renderRoute, text, type } from '../../../testing/harness';
import LogsPage from './logs.page';

function line(eventId: string, body: string, severity = 'INFO', traceId = '') {
  return {
    ts: new Date().toISOString(),
    deviceId: 'pump-001',
    severity,
    body,
    traceId,
    spanId: '',
    source: 'simulator',
    eventId,
  };
}

describe('LogsPage', () => {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi()
      .onQuery('logs', (vars) => ({
        nextCursor: null,
        items: [line('e1', 'fault onset: bearing wear', 'WARN', 'abc123'), line('e2', 'status ok')].filter(
          (l) => !vars['contains'] || l.body.includes(String(vars['contains'])),
        ),
      }))
      .install();
  });
  afterEach(() => api.uninstall());

  it('searches with the URL filters and lists lines with links to device and trace', async () => {
    const { root } = await renderRoute(
      api,
      { path: 'logs', component: LogsPage, url: '/logs?level=WARN&device=pump-001' },
      [],
      () => stubCharts(LogsPage),
    );
    expect(api.graphqlCalls('logs')[0]!.variables).toMatchObject({
      level: 'WARN',
      device: 'pump-001',
      limit: 2000,
    });
    const lines = all(root, '[data-testid="log-line"]');
    expect(lines.map((l) => text(l.querySelector('.body')))).toEqual([
      'fault onset: bearing wear',
      'status ok',
    ]);
    expect(all(lines[0]!, 'a').map((a) => a.getAttribute('href'))).toEqual([
      '/devices/pump-001?level=WARN&device=pump-001',
      '/traces/abc123?level=WARN&device=pump-001',
    ]);
    // The count-over-time histogram holds every listed line.
    const histogram = ChartStub.drawn[0]!.option() as unknown as {
      series: Array<{ data: Array<[number, number]> }>;
    };
    expect(histogram.series[0]!.data.reduce((n, [, c]) => n + c, 0)).toBe(2);
  });

  it('a text search sends `contains`, shows only matches and is written to the URL', async () => {
    const { root, refresh } = await renderRoute(
      api,
      { path: 'logs', component: LogsPage, url: '/logs' },
      [],
      () => stubCharts(LogsPage),
    );
    type(root.querySelector('[data-testid="logs-search"]'), 'bearing');
    (root.querySelector('[data-testid="logs-submit"]') as HTMLButtonElement).click();
    await refresh();
    expect(api.graphqlCalls('logs').at(-1)!.variables['contains']).toBe('bearing');
    expect(all(root, '[data-testid="log-line"]').map((l) => text(l.querySelector('.body')))).toEqual([
      'fault onset: bearing wear',
    ]);
    expect(queryParams()['text']).toBe('bearing');
  });
});
