import { Component } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router } from '@angular/router';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '../../core/auth/auth.service';
import { FakeApi } from '../../../testing/fake-api';
import { renderRoute, text, type } from '../../../testing/harness';
import SignInPage from './sign-in.page';

@Component({ template: 'landed' })
class Landing {}

describe('SignInPage', () => {
  let api: FakeApi;
  beforeEach(() => {
    api = new FakeApi().on('GET', '/api/auth/status', () => ({ adminExists: true })).install();
  });
  afterEach(() => api.uninstall());

  async function signIn(url: string, username: string, password: string) {
    const view = await renderRoute(api, { path: 'sign-in', component: SignInPage, url });
    TestBed.inject(Router).resetConfig([
      { path: 'sign-in', component: SignInPage },
      { path: '**', component: Landing },
    ]);
    type(view.root.querySelector('[data-testid="username"]'), username);
    type(view.root.querySelector('[data-testid="password"]'), password);
    await view.refresh();
    (view.root.querySelector('[data-testid="sign-in"]') as HTMLButtonElement).click();
    await view.refresh();
    return view;
  }

  it('signs in with the cookie credentials mode, keeps the token in memory only, and goes to `next`', async () => {
    api.on('POST', '/api/auth/login', () => ({
      accessToken: 'at-1',
      expiresIn: 900,
      role: 'operator',
      username: 'ops',
    }));
    await signIn('/sign-in?next=%2Flogs%3Flevel%3DWARN', 'ops', 'pw-1');
    expect(api.calls('POST', '/api/auth/login')[0]!.body).toEqual({ username: 'ops', password: 'pw-1' });
    expect(TestBed.inject(Router).url).toBe('/logs?level=WARN');
    const auth = TestBed.inject(AuthService);
    expect([auth.token(), auth.role(), auth.session()?.username]).toEqual(['at-1', 'operator', 'ops']);
    expect(localStorage.length + sessionStorage.length).toBe(0);
  });

  it('never follows `next` off the console', async () => {
    api.on('POST', '/api/auth/login', () => ({ accessToken: 'at-1', expiresIn: 900, role: 'viewer' }));
    await signIn('/sign-in?next=%2F%2Fevil.example%2F', 'v', 'pw');
    expect(TestBed.inject(Router).url).toBe('/fleet');
  });

  it("shows the API's refusal and stays on the page", async () => {
    api.on('POST', '/api/auth/login', () => ({
      status: 401,
      body: { message: 'Invalid username or password' },
    }));
    const { root } = await signIn('/sign-in', 'ops', 'wrong');
    expect(text(root.querySelector('[data-testid="sign-in-error"]'))).toBe('Invalid username or password');
    expect(TestBed.inject(Router).url).toBe('/sign-in');
    expect(TestBed.inject(AuthService).signedIn()).toBe(false);
  });

  it('says how to create the first admin when none exists', async () => {
    api.on('GET', '/api/auth/status', () => ({ adminExists: false }));
    const { root } = await renderRoute(api, { path: 'sign-in', component: SignInPage, url: '/sign-in' });
    expect(text(root.querySelector('[data-testid="no-admin"]'))).toContain(
      'SENTIO_ADMIN_USER and SENTIO_ADMIN_PASSWORD',
    );
  });
});
