import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '../auth/auth.service';
import { LiveService, type LiveState } from '../live/live.service';
import { FakeApi } from '../../../testing/fake-api';
import { all, queryParams, text } from '../../../testing/harness';
import ShellComponent from './shell.component';

@Component({ template: 'page' })
class Page {}

/** The socket's state as the LiveService reports it (the socket itself is exercised by the browser tests). */
const liveState = signal<LiveState>('off');

describe('ShellComponent', () => {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi().install();
    liveState.set('off');
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideRouter([
          { path: '', component: ShellComponent, children: [{ path: '**', component: Page }] },
          { path: 'sign-in', component: Page },
        ]),
        { provide: LiveService, useValue: { state: liveState.asReadonly() } },
      ],
    });
  });
  afterEach(() => api.uninstall());

  async function shellAs(role: 'viewer' | 'operator' | 'admin', url = '/fleet') {
    api.session(role);
    await TestBed.inject(AuthService).signIn(role, 'pw');
    const harness = await RouterTestingHarness.create(url);
    const root = harness.fixture.nativeElement as HTMLElement;
    const refresh = async () => {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 0));
        await harness.fixture.whenStable();
      }
      harness.detectChanges();
    };
    await refresh();
    return { root, refresh, nav: () => all(root, 'nav[aria-label="Pages"] a').map(text) };
  }

  it('shapes the navigation by role: a viewer sees no operator or admin pages', async () => {
    const { root, nav } = await shellAs('viewer');
    expect(nav()).toEqual([
      'Fleet',
      'Metrics explorer',
      'Logs',
      'Traces',
      'Anomalies & forecasts',
      'Alerts',
      'Settings',
    ]);
    expect(text(root.querySelector('[data-testid="user-menu"]'))).toBe('viewer-1 (viewer)');
    expect(root.querySelector('[aria-current="page"]')?.textContent?.trim()).toBe('Fleet');
  });

  it('an operator also sees System status, but not Users & audit', async () => {
    const { nav } = await shellAs('operator');
    expect(nav()).toContain('System status');
    expect(nav()).not.toContain('Users & audit');
  });

  it('an admin sees every page', async () => {
    const { nav } = await shellAs('admin');
    expect(nav()).toEqual([
      'Fleet',
      'Metrics explorer',
      'Logs',
      'Traces',
      'Anomalies & forecasts',
      'Alerts',
      'System status',
      'Settings',
      'Users & audit',
    ]);
  });

  it('the live switch writes live=1 to the URL and the badge follows the connection state', async () => {
    const { root, refresh } = await shellAs('viewer', '/fleet?from=now-6h');
    const state = () => text(root.querySelector('[data-testid="live-state"]'));
    expect(state()).toBe('paused');
    (root.querySelector('[data-testid="live-switch"] button') as HTMLButtonElement).click();
    await refresh();
    expect(queryParams()).toEqual({ from: 'now-6h', live: '1' });
    expect(state()).toBe('live');
    liveState.set('connected');
    await refresh();
    expect(state()).toBe('connected');
    expect(root.querySelector('[data-testid="live-state"]')!.classList.contains('connected')).toBe(true);
    liveState.set('reconnecting');
    await refresh();
    expect(state()).toBe('reconnecting');
  });

  it('sign out forgets the token, tells the API and goes to the sign-in page', async () => {
    const { root, refresh } = await shellAs('operator');
    (root.querySelector('[data-testid="user-menu"]') as HTMLButtonElement).click();
    await refresh();
    (document.body.querySelector('[data-testid="sign-out"]') as HTMLButtonElement).click();
    await refresh();
    expect(api.calls('POST', '/api/auth/logout')).toHaveLength(1);
    expect(TestBed.inject(AuthService).token()).toBeUndefined();
    expect(TestBed.inject(Router).url).toBe('/sign-in');
  });
});
