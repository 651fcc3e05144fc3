import { DatePipe, DecimalPipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  resource,
  signal,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import type { Anomaly } from '../../core/api/api.types';
import { LiveService, type LiveLifecycle } from '../../core/live/live.service';
import { niceStepSeconds } from '../../core/time/time-range.util';
import { TimeRangeService } from '../../core/time/time-range.service';
import { ChartComponent } from '../../shared/chart/chart.component';
import { RelativeTimePipe } from '../../shared/ui/relative-time.pipe';
import { deviceStatus } from '../fleet/device-status.util';
import { FleetService } from '../fleet/fleet.service';
import { DeviceDataService } from './device-data.service';
import { deviceChartOption, formatDuration, pointsSummary } from './device-chart.util';

@Component({
  selector: 'sn-device',
  imports: [ChartComponent, DatePipe, DecimalPipe, RelativeTimePipe, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <header class="head">
        <h1>{{ deviceId() }}</h1>
        @if (device.hasValue() ? device.value() : undefined; as d) {
          <span class="sn-badge {{ status() }}" data-testid="device-status">{{ status() }}</span>
          <span class="sn-muted"
            >{{ d.deviceType }} · {{ d.vendor }} {{ d.model }} · via {{ d.connector }}</span
          >
          @for (l of d.labels; track l.key) {
            <span class="sn-badge">{{ l.key }}={{ l.value }}</span>
          }
        } @else if (device.isLoading()) {
          <span class="sn-muted">loading…</span>
        } @else {
          <span class="sn-error" role="alert">Unknown device</span>
        }
      </header>
      @if (series.error()) {
        <p class="sn-error" role="alert">{{ series.error() }}</p>
      }
      <div class="layout">
        <div class="charts">
          @for (s of (series.hasValue() ? series.value() : undefined) ?? []; track s.metric; let i = $index) {
            <article
              class="sn-card"
              [attr.data-testid]="'chart-' + s.metric"
              [attr.data-from]="s.from"
              [attr.data-to]="s.to"
              [attr.data-step]="s.stepMs / 1000"
              [attr.data-agg]="s.agg"
            >
              <header class="chart-head">
                <h2>
                  {{ s.metric }} <span class="sn-muted">({{ unitOf(s.metric) }})</span>
                </h2>
                <span class="sn-muted" data-testid="chart-detail"
                  >{{ s.agg }} per {{ s.stepMs / 1000 }} s from {{ s.resolution }} ·
                  {{ summaries()[i] }}</span
                >
                @if (forecastOf(s.metric); as f) {
                  <span class="sn-badge" [class.danger]="f.risk === 'HIGH'" data-testid="forecast">
                    forecast {{ f.risk
                    }}{{ f.timeToFailureMs !== null ? ' · limit in ' + duration(f.timeToFailureMs) : '' }}
                  </span>
                }
                <button
                  type="button"
                  class="link"
                  (click)="toggleTable(s.metric)"
                  [attr.aria-expanded]="tableOpen() === s.metric"
                >
                  {{ tableOpen() === s.metric ? 'Hide data' : 'Data table' }}
                </button>
              </header>
              <sn-chart
                [option]="options()[i]!"
                [label]="s.metric + ' over the selected range'"
                [group]="group()"
                (zoom)="time.zoomTo($event.fromMs, $event.toMs)"
              />
              @if (tableOpen() === s.metric) {
                <div class="table-wrap">
                  <table class="sn-table" [attr.data-testid]="'table-' + s.metric">
                    <caption class="visually-hidden">
                      {{
                        s.metric
                      }}
                      values
                    </caption>
                    <thead>
                      <tr>
                        <th scope="col">Time</th>
                        <th scope="col">Value</th>
                      </tr>
                    </thead>
                    <tbody>
                      @for (p of s.points; track p.ts) {
                        <tr>
                          <td>{{ p.ts }}</td>
                          <td>{{ p.value }}</td>
                        </tr>
                      }
                    </tbody>
                  </table>
                </div>
              }
            </article>
          }
        </div>
        <aside class="side">
          <section class="sn-card" aria-labelledby="anomalies-title">
            <h2 id="anomalies-title">
              Anomalies <span class="sn-muted" data-testid="anomaly-count">{{ allAnomalies().length }}</span>
            </h2>
            @if (allAnomalies().length === 0) {
              <p class="sn-muted">None in this range.</p>
            }
            <ul class="anomalies">
              @for (a of allAnomalies().slice(0, 50); track a.ts + a.windowStart) {
                <li data-testid="anomaly-marker" [attr.data-window-start]="a.windowStart">
                  <time [attr.datetime]="a.windowStart">{{ a.windowStart | date: 'HH:mm:ss' }}</time> · score
                  <b>{{ a.score | number: '1.2-2' }}</b>
                  <span class="sn-muted">
                    / threshold {{ a.threshold | number: '1.2-2' }} · model {{ a.modelVersion }}</span
                  >
                  <div class="bars">
                    @for (c of a.contributions.slice(0, 4); track c.metric) {
                      <div class="sn-bar">
                        <span>{{ c.metric }}</span><span
                          class="sn-fill"
                          [style.width.%]="share(a, c.error)"
                        ></span>
                      </div>
                    }
                  </div>
                </li>
              }
            </ul>
          </section>
          <section class="sn-card" aria-labelledby="lifecycle-title">
            <h2 id="lifecycle-title">Lifecycle</h2>
            <ul class="plain">
              @for (e of lifecycle(); track e.ts + e.kind) {
                <li>
                  {{ e.ts | date: 'MMM d, HH:mm:ss' }} · {{ e.kind }}
                  {{ e.online ? '(online)' : '(offline)' }}
                </li>
              }
              @if (device.hasValue() ? device.value() : undefined; as d) {
                <li>
                  {{ d.updatedAt | date: 'MMM d, HH:mm:ss' }} · {{ d.lastEvent }} (current) · last sample
                  {{ d.lastSeen | relativeTime: now() }}
                </li>
              }
            </ul>
          </section>
          <section class="sn-card" aria-labelledby="logs-title">
            <h2 id="logs-title">Logs</h2>
            <a [routerLink]="['/logs']" [queryParams]="{ device: deviceId() }" queryParamsHandling="merge"
              >Open in logs explorer</a
            >
            <ul class="plain logs">
              @for (l of (logs.hasValue() ? logs.value() : undefined) ?? []; track l.eventId) {
                <li>
                  <span class="sn-sev {{ l.severity }}">{{ l.severity }}</span> {{ l.ts | date: 'HH:mm:ss' }}
                  {{ l.body }}
                </li>
              } @empty {
                <li class="sn-muted">No log lines in this range.</li>
              }
            </ul>
          </section>
        </aside>
      </div>
    </section>
  `,
  styles: `
    .head {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 8px;
    }
    .layout {
      display: grid;
      grid-template-columns: minmax(0, 1fr) 340px;
      gap: 16px;
    }
    @media (max-width: 1100px) {
      .layout {
        grid-template-columns: minmax(0, 1fr);
      }
    }
    .charts,
    .side {
      display: flex;
      flex-direction: column;
      gap: 12px;
      min-width: 0;
    }
    .chart-head {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      align-items: baseline;
    }
    h2 {
      font: var(--mat-sys-title-medium);
      margin: 0 0 4px;
    }
    .link {
      background: none;
      border: none;
      color: var(--mat-sys-primary);
      cursor: pointer;
      font: inherit;
      padding: 0;
      margin-left: auto;
    }
    .table-wrap {
      max-height: 240px;
      overflow: auto;
    }
    .anomalies,
    .plain {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      flex-direction: column;
      gap: 8px;
    }
    .logs {
      max-height: 320px;
      overflow: auto;
      font-family: ui-monospace, monospace;
      font-size: 12px;
    }
    .bars {
      display: flex;
      flex-direction: column;
      gap: 2px;
      margin-top: 4px;
    }
  `,
})
export default class DevicePage {
  private readonly fleet = inject(FleetService);
  private readonly data = inject(DeviceDataService);
  private readonly live = inject(LiveService);
  protected readonly time = inject(TimeRangeService);
  readonly deviceId = input.required<string>();

  protected readonly group = computed(() => `device-${this.deviceId()}`);
  protected readonly tableOpen = signal<string | null>(null);
  protected readonly liveAnomalies = signal<Anomaly[]>([]);
  protected readonly livePoints = signal(new Map<string, Array<[number, number]>>());
  protected readonly lifecycle = signal<LiveLifecycle[]>([]);

  protected readonly device = resource({
    params: () => ({ id: this.deviceId(), tick: this.time.tick() }),
    loader: ({ params }) => this.fleet.device(params.id),
  });
  protected readonly now = computed(() => {
    this.device.hasValue() ? this.device.value() : undefined;
    return Date.now();
  });
  protected readonly status = computed(() => {
    const d = this.device.hasValue() ? this.device.value() : undefined;
    return d ? deviceStatus(d, this.now()) : 'offline';
  });
  private readonly metrics = computed(
    () => (this.device.hasValue() ? this.device.value() : undefined)?.metrics.map((m) => m.name) ?? [],
    {
      equal: (a, b) => a.join() === b.join(),
    },
  );
  protected readonly series = resource({
    params: () => {
      const range = this.time.range();
      return {
        device: this.deviceId(),
        metrics: this.metrics(),
        ...range,
        step: String(niceStepSeconds(range)),
      };
    },
    loader: ({ params, abortSignal }) => this.data.series(params, abortSignal),
  });
  protected readonly anomalies = resource({
    params: () => ({ device: this.deviceId(), ...this.time.range() }),
    loader: ({ params, abortSignal }) =>
      this.data.anomalies(params.device, params.fromMs, params.toMs, 500, abortSignal),
  });
  protected readonly forecasts = resource({
    params: () => ({ device: this.deviceId(), ...this.time.range() }),
    loader: ({ params, abortSignal }) =>
      // The newest forecast may predate a short range: look back a day for it.
      this.data.forecasts(
        params.device,
        Math.min(params.fromMs, params.toMs - 86_400_000),
        params.toMs,
        abortSignal,
      ),
  });
  protected readonly logs = resource({
    params: () => ({ device: this.deviceId(), ...this.time.range() }),
    loader: async ({ params, abortSignal }) =>
      (await this.data.logs({ ...params, limit: 50 }, abortSignal)).items,
  });

  protected readonly allAnomalies = computed(() => {
    const seen = new Set<string>();
    return [
      ...this.liveAnomalies(),
      ...((this.anomalies.hasValue() ? this.anomalies.value() : undefined) ?? []),
    ].filter((a) => {
      const key = `${a.ts}|${a.windowStart}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  });

  protected readonly options = computed(() => {
    const range = this.time.range();
    const anomalies = this.allAnomalies();
    const forecasts = (this.forecasts.hasValue() ? this.forecasts.value() : undefined) ?? [];
    const live = this.livePoints();
    return ((this.series.hasValue() ? this.series.value() : undefined) ?? []).map((s) =>
      deviceChartOption(
        s,
        this.unitOf(s.metric),
        this.time.live() ? { fromMs: range.fromMs, toMs: Math.max(range.toMs, Date.now()) } : range,
        anomalies,
        forecasts.find((f) => f.metric === s.metric),
        live.get(s.metric),
      ),
    );
  });

  protected readonly summaries = computed(() => {
    const live = this.livePoints();
    return ((this.series.hasValue() ? this.series.value() : undefined) ?? []).map((s) =>
      pointsSummary(s, live.get(s.metric)),
    );
  });

  constructor() {
    // A device seen for the first time (its lifecycle event not yet projected): look again shortly.
    effect((onCleanup) => {
      if (this.device.isLoading() || (this.device.hasValue() && this.device.value())) return;
      const timer = setTimeout(() => this.device.reload(), 3000);
      onCleanup(() => clearTimeout(timer));
    });
    effect((onCleanup) => {
      const id = this.deviceId();
      this.liveAnomalies.set([]);
      this.livePoints.set(new Map());
      this.lifecycle.set([]);
      if (!this.time.live()) return;
      const stops = [
        this.live.anomalies(id, (a) => this.liveAnomalies.update((list) => [a, ...list].slice(0, 200))),
        this.live.lifecycle(id, (e) => this.lifecycle.update((list) => [e, ...list].slice(0, 50))),
        this.live.telemetry(id, (t) =>
          this.livePoints.update((map) => {
            const next = new Map(map);
            for (const v of t.values) {
              if (v.value === null) continue;
              const points = [...(next.get(v.metric) ?? []), [Date.parse(v.ts), v.value] as [number, number]];
              next.set(v.metric, points.slice(-3600));
            }
            return next;
          }),
        ),
      ];
      onCleanup(() => stops.forEach((stop) => stop()));
    });
  }

  protected unitOf(metric: string): string {
    return (
      (this.device.hasValue() ? this.device.value() : undefined)?.metrics.find((m) => m.name === metric)
        ?.unit ?? ''
    );
  }

  protected forecastOf(metric: string) {
    return (this.forecasts.hasValue() ? this.forecasts.value() : undefined)?.find((f) => f.metric === metric);
  }

  protected duration(ms: number): string {
    return formatDuration(ms);
  }

  protected toggleTable(metric: string): void {
    this.tableOpen.update((open) => (open === metric ? null : metric));
  }

  protected share(anomaly: Anomaly, error: number): number {
    const total = anomaly.contributions.reduce((sum, c) => sum + c.error, 0);
    return total > 0 ? Math.round((100 * error) / total) : 0;
  }
}
