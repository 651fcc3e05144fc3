import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApi } from '../../../testing/fake-api';
import { all, queryParams, renderRoute, text, type } from '../../../testing/harness';
import { TimeRangePickerComponent } from './time-range-picker.component';
import { TimeRangeService } from './time-range.service';

@Component({ imports: [TimeRangePickerComponent], template: '<sn-time-range-picker />' })
class Host {}

describe('TimeRangePickerComponent', () => {
  let api: FakeApi;
  beforeEach(() => (api = new FakeApi().install()));
  afterEach(() => {
    api.uninstall();
    document.body.querySelectorAll('.cdk-overlay-container').forEach((e) => e.remove());
  });

  const menuButton = (label: string) =>
    all(document.body, '.cdk-overlay-container button').find((b) => text(b) === label) as HTMLButtonElement;

  it('shows the range from the URL and moves it to a relative preset chosen from the menu', async () => {
    const { root, refresh } = await renderRoute(api, {
      path: 'x',
      component: Host,
      url: '/x?from=now-24h&q=kept',
    });
    const trigger = root.querySelector('[data-testid="time-range"]') as HTMLButtonElement;
    expect(text(trigger)).toBe('Last 24 hours');
    trigger.click();
    await refresh();
    menuButton('Last 6 hours').click();
    await refresh();
    expect(queryParams()).toEqual({ from: 'now-6h', to: 'now', q: 'kept' });
    expect(text(trigger)).toBe('Last 6 hours');
    const range = TestBed.inject(TimeRangeService).range();
    expect(range.toMs - range.fromMs).toBe(6 * 3_600_000);
  });

  it('applies an absolute range and labels it by its ends', async () => {
    const { root, refresh } = await renderRoute(api, { path: 'x', component: Host, url: '/x' });
    (root.querySelector('[data-testid="time-range"]') as HTMLButtonElement).click();
    await refresh();
    const form = document.body.querySelector('.cdk-overlay-container form.absolute') as HTMLFormElement;
    type(form.querySelector('input[name="from"]'), '2026-11-30T08:00');
    type(form.querySelector('input[name="to"]'), '2026-11-30T09:30');
    form.dispatchEvent(new Event('submit', { cancelable: true }));
    await refresh();
    const { from, to } = queryParams();
    expect(Number(to) - Number(from)).toBe(90 * 60_000);
    expect(Number(from)).toBe(new Date('2026-11-30T08:00').getTime());
    expect(text(root.querySelector('[data-testid="time-range"]'))).toMatch(
      /^2026-11-30 \d\d:00 → 2026-11-30 \d\d:30$/,
    );
  });

  it('auto-refresh goes to the URL; "refresh now" ticks every loader once', async () => {
    const { root, refresh } = await renderRoute(api, { path: 'x', component: Host, url: '/x' });
    type(root.querySelector('[data-testid="auto-refresh"]'), '10s', 'change');
    await refresh();
    expect(queryParams()['refresh']).toBe('10s');
    const time = TestBed.inject(TimeRangeService);
    const before = time.tick();
    (root.querySelector('button[aria-label="Refresh now"]') as HTMLButtonElement).click();
    expect(time.tick()).toBe(before + 1);
  });
});
