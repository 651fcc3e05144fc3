import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeApi } from '../../../testing/fake-api';
import { device, settle } from '../../../testing/fixtures';
import FleetPage from './fleet.page';

describe('FleetPage', () => {
  let api: FakeApi;

  beforeEach(() => {
    const fleet = [
      device('pump-001', { type: 'pump', site: 'north', values: { temperature: 41.25, pressure: 3.5 } }),
      device('pump-002', { type: 'pump', site: 'south', lastSeenAgoMs: 10 * 60_000 }),
      device('fan-001', { type: 'fan', site: 'north', lastSeenAgoMs: null }),
    ];
    api = new FakeApi()
      .onQuery('devices', () => ({ nextCursor: null, items: fleet }))
      .onQuery('topAnomalousDevices', () => [
        { deviceId: 'pump-002', maxScore: 3.1, anomalies: 4, lastAnomaly: '', modelVersion: 'ae-1' },
      ])
      .install();
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideRouter([{ path: 'fleet', component: FleetPage }], withComponentInputBinding()),
      ],
    });
  });
  afterEach(() => api.uninstall());

  async function open(url: string) {
    const harness = await RouterTestingHarness.create(url);
    await settle(harness.fixture);
    harness.detectChanges();
    return harness;
  }

  function rows(root: HTMLElement): string[][] {
    return [...root.querySelectorAll('[data-testid="fleet-row"]')].map((row) =>
      [...row.querySelectorAll('[role="cell"]')].map((cell) => {
        const values = [...cell.querySelectorAll('.value')];
        const parts = values.length ? values : [cell];
        return parts.map((p) => p.textContent!.replace(/\s+/g, ' ').trim()).join(' | ');
      }),
    );
  }

  it('lists every device with type, site, status, latest values and anomaly badges', async () => {
    const harness = await open('/fleet');
    const root = harness.routeNativeElement!;
    expect(root.querySelector('[data-testid="fleet-count"]')!.textContent).toBe('3');
    expect(root.querySelector('[data-testid="fleet-summary"]')!.textContent).toContain('1 online');
    expect(rows(root)).toEqual([
      ['fan-001', 'fan', 'north', 'offline', 'never', 'temperature 41.5 C', ''],
      [
        'pump-001',
        'pump',
        'north',
        'online',
        expect.stringMatching(/s ago|just now/),
        'temperature 41.25 C | pressure 3.5 bar',
        '',
      ],
      ['pump-002', 'pump', 'south', 'stale', '10 min ago', 'temperature 41.5 C', '4'],
    ]);
    // One inventory read and one anomaly count read over the shared time range, both authenticated.
    expect(api.graphqlCalls('devices')).toHaveLength(1);
    const top = api.graphqlCalls('topAnomalousDevices')[0]!;
    expect(Date.parse(String(top.variables['to'])) - Date.parse(String(top.variables['from']))).toBe(
      3_600_000,
    );
  });

  it('filters from the URL and writes the filters it changes back to the URL', async () => {
    const harness = await open('/fleet?type=pump&sort=anomalies&dir=desc');
    const root = harness.routeNativeElement!;
    expect(rows(root).map((r) => r[0])).toEqual(['pump-002', 'pump-001']);

    const search = root.querySelector<HTMLInputElement>('[data-testid="fleet-search"]')!;
    search.value = 'south';
    search.dispatchEvent(new Event('input'));
    await settle(harness.fixture);
    harness.detectChanges();
    expect(rows(root).map((r) => r[0])).toEqual(['pump-002']);
    expect(root.querySelector('[data-testid="fleet-count"]')!.textContent).toBe('1');
    const url = TestBed.inject(Router).parseUrl(TestBed.inject(Router).url).queryParams;
    expect(url).toMatchObject({ q: 'south', type: 'pump', sort: 'anomalies', dir: 'desc' });
  });

  it('shows the API error instead of an empty table', async () => {
    api.onQuery('devices', () => {
      throw new Error('ClickHouse unavailable');
    });
    const harness = await open('/fleet');
    const root = harness.routeNativeElement!;
    expect(root.querySelector('[role="alert"]')!.textContent).toContain('ClickHouse unavailable');
    expect(rows(root)).toEqual([]);
  });
});
