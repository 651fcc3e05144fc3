import { provideZonelessChangeDetection, type Provider, type Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter, withComponentInputBinding, type Routes } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { AuthService } from '../app/core/auth/auth.service';
import type { FakeApi } from './fake-api';

/**
 * Renders a page through the real router (URL → component inputs, as in the app) over a FakeApi, signed in
 * as `role` through the real AuthService (login answered by the fake).
 */
export async function renderRoute(
  api: FakeApi,
  opts: { path: string; component: Type<unknown>; url: string; role?: 'viewer' | 'operator' | 'admin' },
  providers: Provider[] = [],
  before?: () => void,
): Promise<{ harness: RouterTestingHarness; root: HTMLElement; refresh: () => Promise<void> }> {
  const routes: Routes = [{ path: opts.path, component: opts.component }];
  TestBed.configureTestingModule({
    providers: [
      provideZonelessChangeDetection(),
      provideRouter(routes, withComponentInputBinding()),
      ...providers,
    ],
  });
  before?.();
  if (opts.role) {
    api.session(opts.role);
    await TestBed.inject(AuthService).signIn(`${opts.role}-1`, 'secret');
  }
  const harness = await RouterTestingHarness.create(opts.url);
  const refresh = async () => {
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await harness.fixture.whenStable();
    }
    harness.detectChanges();
  };
  await refresh();
  return { harness, root: harness.routeNativeElement!, refresh };
}

export function queryParams(): Record<string, string> {
  const router = TestBed.inject(Router);
  return router.parseUrl(router.url).queryParams as Record<string, string>;
}

export function text(el: Element | null | undefined): string {
  return (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
}

export function all(root: ParentNode, selector: string): Element[] {
  return [...root.querySelectorAll(selector)];
}

/** Types into an input/select/textarea the way a user does: value, then the event the template listens to. */
export function type(el: Element | null, value: string, event: 'input' | 'change' = 'input'): void {
  const field = el as HTMLInputElement;
  field.value = value;
  field.dispatchEvent(new Event(event, { bubbles: true }));
}
