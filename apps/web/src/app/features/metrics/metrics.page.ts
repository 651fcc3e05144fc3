import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  linkedSignal,
  resource,
  untracked,
} from '@angular/core';
import { Router } from '@angular/router';
import { AGGREGATIONS, type Series } from '../../core/api/api.types';
import { TimeRangeService } from '../../core/time/time-range.service';
import { ChartComponent } from '../../shared/chart/chart.component';
import { timeChartOption } from '../../shared/chart/chart-options.util';
import { downsamplePairs } from '../../shared/chart/lttb.util';
import { DeviceDataService } from '../device/device-data.service';
import { FleetService } from '../fleet/fleet.service';

const list = (text: string | undefined) => (text ?? '').split(',').filter(Boolean);

/** Choose devices and metrics, an aggregation and a step; overlay them in one chart or split them. */
@Component({
  selector: 'sn-metrics',
  imports: [ChartComponent],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Metrics explorer</h1>
      <form class="sn-filters" (submit)="$event.preventDefault()">
        <label class="col">
          Devices
          <select multiple size="5" (change)="devicesState.set(selected($event))" data-testid="mx-devices">
            @for (d of deviceIds(); track d) {
              <option [value]="d" [selected]="devicesState().includes(d)">{{ d }}</option>
            }
          </select>
        </label>
        <label class="col">
          Metrics
          <select multiple size="5" (change)="metricsState.set(selected($event))" data-testid="mx-metrics">
            @for (m of metricNames(); track m) {
              <option [value]="m" [selected]="metricsState().includes(m)">{{ m }}</option>
            }
          </select>
        </label>
        <label class="col">
          Aggregation
          <select [value]="aggState()" (change)="aggState.set(value($event))">
            @for (a of aggregations; track a) {
              <option [value]="a">{{ a }}</option>
            }
          </select>
        </label>
        <label class="col">
          Step
          <select [value]="stepState()" (change)="stepState.set(value($event))">
            <option value="">auto</option>
            @for (s of steps; track s) {
              <option [value]="s">{{ s }}</option>
            }
          </select>
        </label>
        <fieldset class="col">
          <legend>Layout</legend>
          <label
            ><input
              type="radio"
              name="mode"
              value="overlay"
              [checked]="modeState() === 'overlay'"
              (change)="modeState.set('overlay')"
            />
            overlay</label
          >
          <label
            ><input
              type="radio"
              name="mode"
              value="split"
              [checked]="modeState() === 'split'"
              (change)="modeState.set('split')"
            />
            split</label
          >
        </fieldset>
      </form>
      @if (series.error()) {
        <p class="sn-error" role="alert">{{ series.error() }}</p>
      }
      @if (pairs().length === 0) {
        <p class="sn-muted">Choose at least one device and one metric.</p>
      }
      @for (panel of panels(); track panel.title) {
        <article class="sn-card">
          <h2>{{ panel.title }}</h2>
          <p class="sn-muted" data-testid="mx-resolution">{{ panel.detail }}</p>
          <sn-chart
            [option]="panel.option"
            [label]="panel.title"
            [height]="280"
            group="explorer"
            (zoom)="time.zoomTo($event.fromMs, $event.toMs)"
          />
        </article>
      }
    </section>
  `,
  styles: `
    .col {
      display: flex;
      flex-direction: column;
      gap: 4px;
      font: var(--mat-sys-label-large);
    }
    select {
      min-width: 10rem;
    }
    fieldset {
      border: 1px solid var(--mat-sys-outline-variant);
      border-radius: 6px;
    }
    h2 {
      font: var(--mat-sys-title-medium);
      margin: 0;
    }
  `,
})
export default class MetricsPage {
  private readonly fleet = inject(FleetService);
  private readonly data = inject(DeviceDataService);
  private readonly router = inject(Router);
  protected readonly time = inject(TimeRangeService);
  protected readonly aggregations = AGGREGATIONS;
  protected readonly steps = ['10s', '30s', '1m', '5m', '15m', '1h', '1d'];

  readonly devices = input<string>();
  readonly metrics = input<string>();
  readonly agg = input<string>();
  readonly step = input<string>();
  readonly mode = input<string>();
  protected readonly devicesState = linkedSignal(() => list(this.devices()));
  protected readonly metricsState = linkedSignal(() => list(this.metrics()));
  protected readonly aggState = linkedSignal(() => this.agg() || 'avg');
  protected readonly stepState = linkedSignal(() => this.step() ?? '');
  protected readonly modeState = linkedSignal<'overlay' | 'split'>(() =>
    this.mode() === 'split' ? 'split' : 'overlay',
  );

  private readonly inventory = resource({ loader: () => this.fleet.load() });
  protected readonly deviceIds = computed(() =>
    ((this.inventory.hasValue() ? this.inventory.value() : undefined) ?? []).map((d) => d.deviceId).sort(),
  );
  protected readonly metricNames = computed(() => {
    const chosen = new Set(this.devicesState());
    const names = new Set<string>();
    for (const d of (this.inventory.hasValue() ? this.inventory.value() : undefined) ?? [])
      if (chosen.size === 0 || chosen.has(d.deviceId)) d.metrics.forEach((m) => names.add(m.name));
    return [...names].sort();
  });
  protected readonly pairs = computed(() =>
    this.devicesState().flatMap((d) => this.metricsState().map((m) => ({ device: d, metric: m }))),
  );

  protected readonly series = resource({
    params: () => ({
      devices: this.devicesState(),
      metrics: this.metricsState(),
      agg: this.aggState(),
      step: this.stepState() || undefined,
      ...this.time.range(),
    }),
    loader: async ({ params, abortSignal }) => {
      const all = await Promise.all(
        params.devices.map((device) =>
          this.data.series(
            {
              device,
              metrics: params.metrics,
              fromMs: params.fromMs,
              toMs: params.toMs,
              step: params.step,
              agg: params.agg,
            },
            abortSignal,
          ),
        ),
      );
      return all.flat();
    },
  });

  protected readonly panels = computed(() => {
    const series = (this.series.hasValue() ? this.series.value() : undefined) ?? [];
    const range = this.time.range();
    const describe = (s: Series[]) =>
      [...new Set(s.map((x) => `${x.agg} per ${x.stepMs / 1000} s from ${x.resolution}`))].join('; ') +
      ` · ${s.reduce((n, x) => n + x.points.length, 0)} points` +
      (s.some((x) => x.points.length > 2000) ? ' (drawn downsampled by LTTB)' : '');
    const line = (s: Series) => ({
      name: `${s.device} ${s.metric}`,
      points: downsamplePairs(s.points, 2000),
    });
    if (this.modeState() === 'overlay' && series.length)
      return [
        {
          title: 'Overlay',
          detail: describe(series),
          option: timeChartOption({ series: series.map(line), range }),
        },
      ];
    return series.map((s) => ({
      title: `${s.device} · ${s.metric}`,
      detail: describe([s]),
      option: timeChartOption({ series: [line(s)], range }),
    }));
  });

  constructor() {
    effect(() => {
      const queryParams = {
        devices: this.devicesState().join(',') || null,
        metrics: this.metricsState().join(',') || null,
        agg: this.aggState() === 'avg' ? null : this.aggState(),
        step: this.stepState() || null,
        mode: this.modeState() === 'overlay' ? null : 'split',
      };
      untracked(
        () => void this.router.navigate([], { queryParams, queryParamsHandling: 'merge', replaceUrl: true }),
      );
    });
  }

  protected value(event: Event): string {
    return (event.target as HTMLSelectElement).value;
  }

  protected selected(event: Event): string[] {
    return [...(event.target as HTMLSelectElement).selectedOptions].map((o) => o.value);
  }
}
