import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChartStub, stubCharts } from '../../../testing/chart.stub';
import { FakeApi } from '../../../testing/fake-api';
import { device, series } from '../../../testing/fixtures';
import { all, queryParams, renderRoute, text } from '../../../testing/harness';
import MetricsPage from './metrics.page';

describe('MetricsPage', () => {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi()
      .onQuery('devices', () => ({
        nextCursor: null,
        items: [
          device('pump-001', { values: { temperature: 1, pressure: 2 } }),
          device('pump-002', { values: { temperature: 1 } }),
        ],
      }))
      .onQuery('metricSeries', (vars, args) => ({
        ...series(
          String(args['device']),
          String(args['metric']),
          Array.from({ length: 2500 }, (_, i) => i % 97),
          10_000,
        ),
        agg: String(vars['agg']),
        resolution: 'raw',
      }))
      .install();
  });
  afterEach(() => api.uninstall());

  it('asks per device for the chosen metrics, aggregation and step; shows resolution and downsampling', async () => {
    const { root } = await renderRoute(
      api,
      {
        path: 'explore',
        component: MetricsPage,
        url: '/explore?devices=pump-001,pump-002&metrics=temperature&agg=p95&step=10s',
      },
      [],
      () => stubCharts(MetricsPage),
    );
    const calls = api.graphqlCalls('metricSeries');
    expect(calls.map((c) => c.variables['device']).sort()).toEqual(['pump-001', 'pump-002']);
    expect(calls[0]!.variables).toMatchObject({ m0: 'temperature', agg: 'p95', step: '10s' });
    // Overlay: one chart with both series, each drawn downsampled to at most 2,000 points.
    expect(all(root, 'h2').map(text)).toEqual(['Overlay']);
    expect(text(root.querySelector('[data-testid="mx-resolution"]'))).toBe(
      'p95 per 10 s from raw · 5000 points (drawn downsampled by LTTB)',
    );
    const option = ChartStub.drawn[0]!.option() as unknown as {
      series: Array<{ name: string; data: unknown[] }>;
    };
    expect(option.series.map((s) => [s.name, s.data.length])).toEqual([
      ['pump-001 temperature', 2000],
      ['pump-002 temperature', 2000],
    ]);
    // Only the chosen devices' metrics are offered.
    expect(all(root, '[data-testid="mx-metrics"] option').map(text)).toEqual(['pressure', 'temperature']);
  });

  it('split mode draws one chart per series and keeps the choice in the URL', async () => {
    const { root, refresh } = await renderRoute(
      api,
      {
        path: 'explore',
        component: MetricsPage,
        url: '/explore?devices=pump-001&metrics=temperature,pressure',
      },
      [],
      () => stubCharts(MetricsPage),
    );
    const split = root.querySelector('input[value="split"]') as HTMLInputElement;
    split.checked = true;
    split.dispatchEvent(new Event('change'));
    await refresh();
    expect(all(root, 'h2').map(text)).toEqual(['pump-001 · temperature', 'pump-001 · pressure']);
    expect(queryParams()).toMatchObject({
      mode: 'split',
      devices: 'pump-001',
      metrics: 'temperature,pressure',
    });
  });
});
