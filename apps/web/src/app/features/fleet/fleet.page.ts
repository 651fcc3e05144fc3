import { ScrollingModule } from '@angular/cdk/scrolling';
import { DecimalPipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  computed,
  effect,
  inject,
  input,
  linkedSignal,
  resource,
  untracked,
} from '@angular/core';
import { Router } from '@angular/router';
import type { Device } from '../../core/api/api.types';
import { LiveService } from '../../core/live/live.service';
import { TimeRangeService } from '../../core/time/time-range.service';
import { RelativeTimePipe } from '../../shared/ui/relative-time.pipe';
import { FleetService } from './fleet.service';
import {
  FLEET_SORT_KEYS,
  countByStatus,
  distinct,
  filterRows,
  toRows,
  type FleetFilter,
  type FleetSortKey,
} from './fleet-filter.util';

@Component({
  selector: 'sn-fleet',
  imports: [ScrollingModule, DecimalPipe, RelativeTimePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page fleet">
      <header class="head">
        <h1>Fleet</h1>
        <p class="sn-muted" role="status" data-testid="fleet-summary">
          <span data-testid="fleet-count">{{ rows().length }}</span> of {{ all().length }} devices ·
          <span class="sn-badge online">{{ counts().online }} online</span>
          <span class="sn-badge stale">{{ counts().stale }} stale</span>
          <span class="sn-badge offline">{{ counts().offline }} offline</span>
        </p>
      </header>
      <form class="sn-filters" role="search" (submit)="$event.preventDefault()">
        <label>
          <span class="visually-hidden">Search devices</span>
          <input
            type="search"
            placeholder="Search id, type, label…"
            [value]="qState()"
            (input)="qState.set(value($event))"
            data-testid="fleet-search"
          />
        </label>
        <label>
          Type
          <select [value]="typeState()" (change)="typeState.set(value($event))" data-testid="fleet-type">
            <option value="">all</option>
            @for (t of types(); track t) {
              <option [value]="t">{{ t }}</option>
            }
          </select>
        </label>
        <label>
          Site
          <select [value]="siteState()" (change)="siteState.set(value($event))">
            <option value="">all</option>
            @for (s of sites(); track s) {
              <option [value]="s">{{ s }}</option>
            }
          </select>
        </label>
        <label>
          Status
          <select [value]="statusState()" (change)="statusState.set(value($event))">
            <option value="">all</option>
            <option value="online">online</option>
            <option value="stale">stale</option>
            <option value="offline">offline</option>
          </select>
        </label>
        <label>
          Label
          <input
            placeholder="key=value"
            [value]="labelState()"
            (input)="labelState.set(value($event))"
            size="14"
          />
        </label>
        <label>
          Sort
          <select [value]="sortState()" (change)="sortState.set($any(value($event)))">
            @for (k of sortKeys; track k) {
              <option [value]="k">{{ k }}</option>
            }
          </select>
        </label>
        <button
          type="button"
          class="dir"
          (click)="dirState.set(dirState() === 'asc' ? 'desc' : 'asc')"
          [attr.aria-label]="'Sort ' + (dirState() === 'asc' ? 'descending' : 'ascending')"
        >
          {{ dirState() === 'asc' ? '↑' : '↓' }}
        </button>
      </form>
      @if (inventory.error()) {
        <p class="sn-error" role="alert">{{ errorText(inventory.error()) }}</p>
      }
      <div class="table" role="table" aria-label="Devices" [attr.aria-rowcount]="rows().length + 1">
        <div class="row header" role="row">
          <span role="columnheader">Device</span>
          <span role="columnheader">Type</span>
          <span role="columnheader" class="wide">Site</span>
          <span role="columnheader">Status</span>
          <span role="columnheader" class="wide">Last seen</span>
          <span role="columnheader" class="values">Latest values</span>
          <span role="columnheader">Anomalies</span>
        </div>
        <cdk-virtual-scroll-viewport itemSize="44" class="viewport" data-testid="fleet-viewport">
          <div
            *cdkVirtualFor="let row of rows(); trackBy: trackById; templateCacheSize: 120; let i = index"
            class="row"
            role="row"
            [attr.aria-rowindex]="i + 2"
            data-testid="fleet-row"
          >
            <span role="cell"
              ><a [href]="'/devices/' + row.device.deviceId" (click)="open($event, row.device.deviceId)">{{
                row.device.deviceId
              }}</a></span
            >
            <span role="cell">{{ row.device.deviceType }}</span>
            <span role="cell" class="wide">{{ row.site }}</span>
            <span role="cell"
              ><span class="sn-badge {{ row.status }}">{{ row.status }}</span></span
            >
            <span role="cell" class="wide">{{ row.device.lastSeen | relativeTime: now() }}</span>
            <span role="cell" class="values">
              @for (v of row.values; track v.metric) {
                <span class="value"
                  >{{ v.metric }} <b>{{ v.value | number: '1.0-2' }}</b> {{ v.unit }}</span
                >
              }
            </span>
            <span role="cell">
              @if (row.anomalies > 0) {
                <span class="sn-badge danger" [attr.aria-label]="row.anomalies + ' anomalies'">{{
                  row.anomalies
                }}</span>
              }
            </span>
          </div>
        </cdk-virtual-scroll-viewport>
      </div>
    </section>
  `,
  styles: `
    .fleet {
      height: calc(100vh - 64px);
      box-sizing: border-box;
    }
    .head {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      gap: 16px;
    }
    .head p {
      margin: 0;
      display: flex;
      gap: 6px;
      align-items: center;
    }
    .table {
      flex: 1;
      display: flex;
      flex-direction: column;
      min-height: 0;
      background: var(--mat-sys-surface-container-low);
      border-radius: 12px;
    }
    /* Scrolling repaints and lays out only the viewport: contained, opaque and on its own layer, so a
       wheel step re-renders ~30 rows, not the page (long tasks > 50 ms while scrolling otherwise). */
    .viewport {
      flex: 1;
      min-height: 200px;
      contain: strict;
      background: var(--mat-sys-surface-container-low);
      will-change: transform;
    }
    .row {
      display: grid;
      grid-template-columns: 9rem 10rem 6rem 6rem 7rem minmax(0, 1fr) 5rem;
      gap: 8px;
      align-items: center;
      height: 44px;
      padding: 0 12px;
      border-bottom: 1px solid var(--mat-sys-outline-variant);
      box-sizing: border-box;
      white-space: nowrap;
      overflow: hidden;
      contain: layout paint style;
    }
    .header {
      color: var(--mat-sys-on-surface-variant);
      font: var(--mat-sys-label-large);
    }
    .row > span {
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .value {
      margin-right: 12px;
    }
    @media (max-width: 900px) {
      .row {
        grid-template-columns: 7.5rem 7rem 5.5rem minmax(0, 1fr) 5.5rem;
      }
      .wide {
        display: none;
      }
    }
  `,
})
export default class FleetPage {
  private readonly fleet = inject(FleetService);
  private readonly router = inject(Router);
  private readonly live = inject(LiveService);
  protected readonly time = inject(TimeRangeService);
  protected readonly sortKeys = FLEET_SORT_KEYS;

  // Filters arrive from the URL (component input binding) and are written back to it.
  readonly q = input('');
  readonly type = input('');
  readonly site = input('');
  readonly status = input('');
  readonly label = input('');
  readonly sort = input<FleetSortKey>('id');
  readonly dir = input<'asc' | 'desc'>('asc');
  protected readonly qState = linkedSignal(() => this.q() ?? '');
  protected readonly typeState = linkedSignal(() => this.type() ?? '');
  protected readonly siteState = linkedSignal(() => this.site() ?? '');
  protected readonly statusState = linkedSignal(() => this.status() ?? '');
  protected readonly labelState = linkedSignal(() => this.label() ?? '');
  protected readonly sortState = linkedSignal<FleetSortKey>(() =>
    FLEET_SORT_KEYS.includes(this.sort()) ? this.sort() : 'id',
  );
  protected readonly dirState = linkedSignal<'asc' | 'desc'>(() => (this.dir() === 'desc' ? 'desc' : 'asc'));

  protected readonly inventory = resource({
    params: () => ({ tick: this.time.tick() }),
    loader: ({ abortSignal }) => this.fleet.load(abortSignal),
  });
  protected readonly anomalyCounts = resource({
    params: () => this.time.range(),
    loader: ({ params, abortSignal }) => this.fleet.anomalyCounts(params.fromMs, params.toMs, abortSignal),
  });
  protected readonly now = computed(() => {
    this.fleet.devices();
    this.time.tick();
    return Date.now();
  });
  protected readonly all = computed(() =>
    toRows(
      this.fleet.devices(),
      (this.anomalyCounts.hasValue() ? this.anomalyCounts.value() : undefined) ?? new Map(),
      this.now(),
    ),
  );
  protected readonly filter = computed<FleetFilter>(() => ({
    q: this.qState(),
    type: this.typeState(),
    site: this.siteState(),
    status: this.statusState(),
    label: this.labelState(),
    sort: this.sortState(),
    dir: this.dirState(),
  }));
  protected readonly rows = computed(() => filterRows(this.all(), this.filter()));
  protected readonly counts = computed(() => countByStatus(this.all()));
  protected readonly types = computed(() => distinct(this.all(), (r) => r.device.deviceType));
  protected readonly sites = computed(() => distinct(this.all(), (r) => r.site));

  constructor() {
    effect(() => {
      const f = this.filter();
      const queryParams = {
        q: f.q || null,
        type: f.type || null,
        site: f.site || null,
        status: f.status || null,
        label: f.label || null,
        sort: f.sort === 'id' ? null : f.sort,
        dir: f.dir === 'asc' ? null : f.dir,
      };
      untracked(
        () => void this.router.navigate([], { queryParams, queryParamsHandling: 'merge', replaceUrl: true }),
      );
    });
    // Live: telemetry pushes update latest values and last seen, applied once a second.
    effect((onCleanup) => {
      if (!this.time.live()) return;
      const pending = new Map<string, Device['latest']>();
      const stop = this.live.telemetry(undefined, (t) => pending.set(t.deviceId, t.values));
      const timer = setInterval(() => {
        this.fleet.applyTelemetry(new Map(pending));
        pending.clear();
      }, 1000);
      onCleanup(() => {
        stop();
        clearInterval(timer);
      });
    });
    inject(DestroyRef).onDestroy(() => undefined);
  }

  /**
   * Rows link with plain anchors (a RouterLink per row costs a URL tree on every scroll step); a plain click
   * navigates in the app keeping the time range, a modified click opens a tab as usual.
   */
  protected open(event: MouseEvent, deviceId: string): void {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    const { from, to, refresh, live } = this.router.parseUrl(this.router.url).queryParams as Record<
      string,
      string
    >;
    void this.router.navigate(['/devices', deviceId], { queryParams: { from, to, refresh, live } });
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement | HTMLSelectElement).value;
  }

  protected trackById(_: number, row: { device: Device }): string {
    return row.device.deviceId;
  }

  protected errorText(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }
}
