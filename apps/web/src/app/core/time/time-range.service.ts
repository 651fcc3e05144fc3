import { DestroyRef, Injectable, computed, effect, inject, signal } from '@angular/core';
import { NavigationEnd, Router } from '@angular/router';
import { filter } from 'rxjs';
import {
  DEFAULT_RANGE,
  REFRESH_CHOICES,
  isRelative,
  refreshIntervalMs,
  resolveRange,
  type RefreshChoice,
  type ResolvedRange,
  type TimeRangeSpec,
} from './time-range.util';

/**
 * The one time range every page shares. It lives in the URL (`from`, `to`, `refresh`, `live`) so a page is
 * linkable as seen; `range()` re-resolves relative ranges on every auto-refresh tick.
 */
@Injectable({ providedIn: 'root' })
export class TimeRangeService {
  private readonly router = inject(Router);
  private readonly specState = signal<TimeRangeSpec>(DEFAULT_RANGE);
  private readonly refreshState = signal<RefreshChoice>('off');
  private readonly liveState = signal(false);
  private readonly tickState = signal(0);

  readonly spec = this.specState.asReadonly();
  readonly refresh = this.refreshState.asReadonly();
  readonly live = this.liveState.asReadonly();
  /** Increments on every auto-refresh and on "refresh now": loaders depend on it. */
  readonly tick = this.tickState.asReadonly();
  readonly range = computed<ResolvedRange>(() => {
    this.tickState();
    return resolveRange(this.specState(), Date.now());
  });

  constructor() {
    this.readUrl(this.router.url);
    const sub = this.router.events
      .pipe(filter((e): e is NavigationEnd => e instanceof NavigationEnd))
      .subscribe((e) => this.readUrl(e.urlAfterRedirects));
    inject(DestroyRef).onDestroy(() => sub.unsubscribe());
    effect((onCleanup) => {
      const ms = refreshIntervalMs(this.refreshState());
      if (ms === undefined) return;
      const timer = setInterval(() => this.reload(), ms);
      onCleanup(() => clearInterval(timer));
    });
  }

  setRange(spec: TimeRangeSpec): void {
    void this.write({ from: spec.from, to: spec.to });
  }

  /** Zoom from a chart: an absolute range in milliseconds. */
  zoomTo(fromMs: number, toMs: number): void {
    if (toMs - fromMs < 1000) return;
    this.setRange({ from: String(Math.round(fromMs)), to: String(Math.round(toMs)) });
  }

  setRefresh(choice: RefreshChoice): void {
    void this.write({ refresh: choice === 'off' ? null : choice });
  }

  setLive(on: boolean): void {
    void this.write({ live: on ? '1' : null });
  }

  reload(): void {
    this.tickState.update((t) => t + 1);
  }

  isRelative(): boolean {
    return isRelative(this.specState());
  }

  private write(queryParams: Record<string, string | null>): Promise<boolean> {
    return this.router.navigate([], { queryParams, queryParamsHandling: 'merge', replaceUrl: true });
  }

  private readUrl(url: string): void {
    const params = this.router.parseUrl(url).queryParams as Record<string, string | undefined>;
    const spec = { from: params['from'] ?? DEFAULT_RANGE.from, to: params['to'] ?? DEFAULT_RANGE.to };
    const current = this.specState();
    if (spec.from !== current.from || spec.to !== current.to) this.specState.set(spec);
    const refresh = (REFRESH_CHOICES as readonly string[]).includes(params['refresh'] ?? '')
      ? (params['refresh'] as RefreshChoice)
      : 'off';
    if (refresh !== this.refreshState()) this.refreshState.set(refresh);
    const live = params['live'] === '1';
    if (live !== this.liveState()) this.liveState.set(live);
  }
}
