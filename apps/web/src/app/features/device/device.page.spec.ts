import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChartStub, stubCharts } from '../../../testing/chart.stub';
import { FakeApi } from '../../../testing/fake-api';
import { device, series } from '../../../testing/fixtures';
import { all, renderRoute, text } from '../../../testing/harness';
import DevicePage from './device.page';

interface LineOption {
  series: Array<{ name: string; data: Array<[number, number]>; markArea?: { data: unknown[] } }>;
}

describe('DevicePage', () => {
  let api: FakeApi;
  beforeEach(() => {
    const pump = device('pump-001', { values: { temperature: 40, pressure: 3 } });
    api = new FakeApi()
      .onQuery('devices', () => ({ nextCursor: null, items: [pump] }))
      .onQuery('metricSeries', (_, args) =>
        args['metric'] === 'temperature'
          ? series('pump-001', 'temperature', [40, 41, 45])
          : series('pump-001', 'pressure', [3, 3.1]),
      )
      .onQuery('anomalies', () => [
        {
          ts: '2026-11-30T10:03:00Z',
          deviceId: 'pump-001',
          windowStart: '2026-11-30T10:01:00Z',
          windowEnd: '2026-11-30T10:02:00Z',
          score: 4.5,
          threshold: 1.25,
          modelVersion: 'ae-7',
          contributions: [
            { metric: 'temperature', error: 3 },
            { metric: 'pressure', error: 1 },
          ],
        },
      ])
      .onQuery('forecasts', () => [])
      .onQuery('logs', () => ({
        nextCursor: null,
        items: [
          {
            ts: '2026-11-30T10:02:00Z',
            deviceId: 'pump-001',
            severity: 'WARN',
            body: 'bearing temperature rising',
            traceId: '',
            spanId: '',
            source: 'simulator',
            eventId: 'e1',
          },
        ],
      }))
      .install();
  });
  afterEach(() => api.uninstall());

  it('draws one chart per metric from one series request, with anomaly markers, contributions and logs', async () => {
    const { root } = await renderRoute(
      api,
      { path: 'devices/:deviceId', component: DevicePage, url: '/devices/pump-001?from=now-6h' },
      [],
      () => stubCharts(DevicePage),
    );
    // Both metrics in one request, over the URL's range.
    const req = api.graphqlCalls('metricSeries');
    expect(req).toHaveLength(1);
    expect(req[0]!.fields).toEqual(['metricSeries', 'metricSeries']);
    expect(Date.parse(String(req[0]!.variables['to'])) - Date.parse(String(req[0]!.variables['from']))).toBe(
      6 * 3_600_000,
    );

    expect(text(root.querySelector('[data-testid="chart-temperature"] [data-testid="chart-detail"]'))).toBe(
      'avg per 60 s from 1m · 3 buckets drawn',
    );
    // The chart draws the API's values, shares the device's crosshair group and marks the anomaly window.
    const charts = ChartStub.drawn.map((c) => c.option() as unknown as LineOption);
    expect(charts[0]!.series[0]!.data.map(([, v]) => v)).toEqual([40, 41, 45]);
    expect(charts[0]!.series[0]!.markArea!.data).toHaveLength(1);
    expect(new Set(ChartStub.drawn.map((c) => c.group()))).toEqual(new Set(['device-pump-001']));

    const marker = root.querySelector('[data-testid="anomaly-marker"]')!;
    expect(marker.getAttribute('data-window-start')).toBe('2026-11-30T10:01:00Z');
    expect(text(marker)).toContain('score 4.50 / threshold 1.25 · model ae-7');
    const bars = all(marker, '.sn-bar .sn-fill').map((b) => (b as HTMLElement).style.width);
    expect(bars).toEqual(['75%', '25%']);
    expect(text(root.querySelector('.logs'))).toContain('WARN');
    expect(text(root.querySelector('.logs'))).toContain('bearing temperature rising');
  });

  it('opens the data table of a chart with the very values fetched', async () => {
    const { root, refresh } = await renderRoute(
      api,
      { path: 'devices/:deviceId', component: DevicePage, url: '/devices/pump-001' },
      [],
      () => stubCharts(DevicePage),
    );
    const button = all(root, '[data-testid="chart-temperature"] button').find(
      (b) => text(b) === 'Data table',
    )!;
    (button as HTMLButtonElement).click();
    await refresh();
    const cells = all(root, '[data-testid="table-temperature"] tbody td').map(text);
    expect(cells).toEqual([
      '2026-11-30T10:00:00.000Z',
      '40',
      '2026-11-30T10:01:00.000Z',
      '41',
      '2026-11-30T10:02:00.000Z',
      '45',
    ]);
    expect(button.getAttribute('aria-expanded')).toBe('true');
  });
});
