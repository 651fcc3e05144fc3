import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApi } from '../../../testing/fake-api';
import { span } from '../../../testing/fixtures';
import { all, renderRoute, text } from '../../../testing/harness';
import TracePage from './trace.page';

describe('TracePage', () => {
  let api: FakeApi;
  beforeEach(() => {
    // Returned out of order: the page draws them in call order (parent before child, siblings by start).
    api = new FakeApi()
      .onQuery('trace', () => [
        span('c', 'b', 'write-batch', 40_000, 20_000, 'ERROR'),
        span('a', '', 'publish-cycle', 0, 100_000),
        span('d', 'a', 'flush', 70_000, 30_000),
        span('b', 'a', 'sample', 10_000, 50_000),
      ])
      .install();
  });
  afterEach(() => api.uninstall());

  it('asks for the trace in the URL and draws its spans as a waterfall on one time axis', async () => {
    const { root } = await renderRoute(api, {
      path: 'traces/:traceId',
      component: TracePage,
      url: '/traces/trace-1',
    });
    expect(api.graphqlCalls('trace')[0]!.variables).toEqual({ traceId: 'trace-1' });
    const rows = all(root, '[data-testid="waterfall-row"]');
    expect(rows.map((r) => r.getAttribute('aria-label'))).toEqual([
      'sentio-simulator publish-cycle, 100.0 ms',
      'sentio-simulator sample, 50.0 ms',
      'sentio-simulator write-batch, 20.0 ms',
      'sentio-simulator flush, 30.0 ms',
    ]);
    // Depth indents the label; the bar sits at the span's offset and width within the trace's 100 ms.
    const label = (i: number) => (rows[i]!.querySelector('.label') as HTMLElement).style.paddingLeft;
    expect([label(0), label(1), label(2), label(3)]).toEqual(['8px', '22px', '36px', '22px']);
    const bar = rows[2]!.querySelector('.bar') as HTMLElement;
    expect([bar.style.left, bar.style.width]).toEqual(['40%', '20%']);
    expect(bar.classList.contains('error')).toBe(true);
    expect(text(root.querySelector('.sn-muted'))).toBe('4 spans · 100.0 ms');
  });

  it('says so when the trace has no spans', async () => {
    api.onQuery('trace', () => []);
    const { root } = await renderRoute(api, {
      path: 'traces/:traceId',
      component: TracePage,
      url: '/traces/nope',
    });
    expect(all(root, '[data-testid="waterfall-row"]')).toHaveLength(0);
    expect(text(root.querySelector('[data-testid="waterfall"]'))).toBe('No spans for this trace.');
  });
});
