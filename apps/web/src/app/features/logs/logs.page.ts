import { DatePipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  linkedSignal,
  resource,
  signal,
  untracked,
} from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { SEVERITIES, type LogRecord } from '../../core/api/api.types';
import { TimeRangeService } from '../../core/time/time-range.service';
import { niceStepSeconds } from '../../core/time/time-range.util';
import { ChartComponent } from '../../shared/chart/chart.component';
import { bucketCounts, histogramOption } from '../../shared/chart/chart-options.util';
import { DeviceDataService } from '../device/device-data.service';

const PAGE = 2000;
const TAIL_MS = 2000;

/** Log search: level, device, text; a count-over-time histogram that zooms the range; live tail. */
@Component({
  selector: 'sn-logs',
  imports: [ChartComponent, DatePipe, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Logs</h1>
      <form class="sn-filters" role="search" (submit)="$event.preventDefault(); textState.set(draft())">
        <label>
          Level ≥
          <select [value]="levelState()" (change)="levelState.set(value($event))" data-testid="logs-level">
            <option value="">any</option>
            @for (s of severities; track s) {
              <option [value]="s">{{ s }}</option>
            }
          </select>
        </label>
        <label
          >Device
          <input
            [value]="deviceState()"
            (change)="deviceState.set(value($event))"
            size="14"
            data-testid="logs-device"
        /></label>
        <label
          >Text
          <input
            type="search"
            [value]="textState()"
            (input)="draft.set(value($event))"
            size="24"
            data-testid="logs-search"
        /></label>
        <button type="submit" data-testid="logs-submit">Search</button>
        <span class="sn-muted" role="status">{{ time.live() ? 'live tail on' : '' }}</span>
      </form>
      <article class="sn-card">
        <h2 class="visually-hidden">Log lines over time</h2>
        <sn-chart
          [option]="histogram()"
          label="Log lines per interval; zoom to narrow the range"
          [height]="120"
          (zoom)="time.zoomTo($event.fromMs, $event.toMs)"
        />
        <p class="sn-muted">
          {{ lines().length }} lines{{ lines().length >= pageSize ? ' (the newest ' + pageSize + ')' : '' }}
        </p>
      </article>
      @if (result.error()) {
        <p class="sn-error" role="alert">{{ result.error() }}</p>
      }
      <ol class="lines" aria-label="Log lines, newest first" data-testid="log-lines">
        @for (l of lines().slice(0, 500); track l.eventId) {
          <li data-testid="log-line">
            <time [attr.datetime]="l.ts">{{ l.ts | date: 'MMM d HH:mm:ss.SSS' }}</time>
            <span class="sn-sev sev {{ l.severity }}">{{ l.severity }}</span>
            <a [routerLink]="['/devices', l.deviceId]" queryParamsHandling="merge">{{ l.deviceId }}</a>
            <span class="body">{{ l.body }}</span>
            @if (l.traceId) {
              <a [routerLink]="['/traces', l.traceId]" queryParamsHandling="merge">trace</a>
            }
          </li>
        } @empty {
          <li class="sn-muted">No log lines match.</li>
        }
      </ol>
    </section>
  `,
  styles: `
    .lines {
      list-style: none;
      margin: 0;
      padding: 0;
      font-family: ui-monospace, monospace;
      font-size: 12.5px;
    }
    .lines li {
      display: flex;
      gap: 10px;
      padding: 3px 4px;
      border-bottom: 1px solid var(--mat-sys-outline-variant);
      flex-wrap: wrap;
    }
    .body {
      flex: 1;
      min-width: 12rem;
      word-break: break-word;
    }
    .sev {
      width: 3.5rem;
    }
  `,
})
export default class LogsPage {
  private readonly data = inject(DeviceDataService);
  private readonly router = inject(Router);
  protected readonly time = inject(TimeRangeService);
  protected readonly severities = SEVERITIES;
  protected readonly pageSize = PAGE;

  readonly level = input<string>();
  readonly device = input<string>();
  readonly text = input<string>();
  protected readonly levelState = linkedSignal(() => this.level() ?? '');
  protected readonly deviceState = linkedSignal(() => this.device() ?? '');
  protected readonly textState = linkedSignal(() => this.text() ?? '');
  protected readonly draft = linkedSignal(() => this.textState());
  private readonly tail = signal<LogRecord[]>([]);

  protected readonly result = resource({
    params: () => ({
      level: this.levelState() || undefined,
      device: this.deviceState() || undefined,
      contains: this.textState() || undefined,
      ...this.time.range(),
    }),
    loader: async ({ params, abortSignal }) =>
      (await this.data.logs({ ...params, limit: PAGE }, abortSignal)).items,
  });
  protected readonly lines = computed(() => {
    const seen = new Set<string>();
    return [...this.tail(), ...((this.result.hasValue() ? this.result.value() : undefined) ?? [])].filter(
      (l) => !seen.has(l.eventId) && (seen.add(l.eventId), true),
    );
  });
  protected readonly histogram = computed(() => {
    const range = this.time.range();
    const stepMs = niceStepSeconds(range, 60) * 1000;
    return histogramOption(
      bucketCounts(
        this.lines().map((l) => Date.parse(l.ts)),
        range,
        stepMs,
      ),
      stepMs,
      range,
    );
  });

  constructor() {
    effect(() => {
      const queryParams = {
        level: this.levelState() || null,
        device: this.deviceState() || null,
        text: this.textState() || null,
      };
      untracked(
        () => void this.router.navigate([], { queryParams, queryParamsHandling: 'merge', replaceUrl: true }),
      );
    });
    // Live tail: poll for lines newer than the newest shown (the API has no log subscription).
    effect((onCleanup) => {
      this.tail.set([]);
      if (!this.time.live()) return;
      const filter = {
        level: this.levelState() || undefined,
        device: this.deviceState() || undefined,
        contains: this.textState() || undefined,
      };
      let busy = false;
      const timer = setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          const newest = untracked(() => this.lines()[0]?.ts);
          const fromMs = newest ? Date.parse(newest) : Date.now() - 60_000;
          const { items } = await this.data.logs({ ...filter, fromMs, toMs: Date.now() + 1000, limit: 500 });
          if (items.length) this.tail.update((t) => [...items, ...t].slice(0, PAGE));
        } finally {
          busy = false;
        }
      }, TAIL_MS);
      onCleanup(() => clearInterval(timer));
    });
  }

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }
}
