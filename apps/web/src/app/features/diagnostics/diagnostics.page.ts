import { ChangeDetectionStrategy, Component, computed, effect, inject, input, signal } from '@angular/core';
import type { ECharts } from 'echarts/core';
import { LiveService } from '../../core/live/live.service';
import { ChartComponent } from '../../shared/chart/chart.component';
import { timeChartOption, type ChartOption } from '../../shared/chart/chart-options.util';
import { lttb } from '../../shared/chart/lttb.util';

/**
 * Diagnostics for the console benchmark (tools/bench/console.bench.ts), not linked from the navigation:
 * `mode=chart` draws `points` synthetic samples through the same option builder, LTTB and chart component
 * as the device page and reports the draw time; `mode=live` charts the first `series` live telemetry series
 * with a sliding window, as a long-running control-room page would.
 */
@Component({
  selector: 'sn-diagnostics',
  imports: [ChartComponent],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Diagnostics: {{ modeName() }}</h1>
      <p
        data-testid="diagnostics-result"
        [attr.data-draw-ms]="drawMs()"
        [attr.data-drawn-points]="drawnPoints()"
        [attr.data-series]="liveSeries()"
        [attr.data-received]="received()"
      >
        @if (modeName() === 'chart') {
          {{ points() }} points, drawn as {{ drawnPoints() }} in {{ drawMs() ?? '…' }} ms
        } @else {
          {{ liveSeries() }} live series, {{ received() }} pushes received
        }
      </p>
      @if (option(); as o) {
        <sn-chart [option]="o" label="Diagnostics chart" [height]="420" (ready)="onReady($event)" />
      }
    </section>
  `,
})
export default class DiagnosticsPage {
  private readonly live = inject(LiveService);
  readonly mode = input<string>();
  readonly points = input(100_000, { transform: (v: unknown) => Number(v ?? 100_000) || 100_000 });
  readonly series = input(20, { transform: (v: unknown) => Number(v ?? 20) || 20 });
  readonly windowS = input(300, { transform: (v: unknown) => Number(v ?? 300) || 300 });
  protected readonly modeName = computed(() => (this.mode() === 'live' ? 'live' : 'chart'));
  protected readonly drawMs = signal<number | null>(null);
  protected readonly drawnPoints = signal(0);
  protected readonly received = signal(0);
  private readonly liveData = signal(new Map<string, Array<[number, number]>>());
  protected readonly liveSeries = computed(() => this.liveData().size);

  protected readonly option = computed<ChartOption | undefined>(() => {
    if (this.modeName() === 'live') {
      const now = Date.now();
      const series = [...this.liveData()].map(([name, points]) => ({ name, points }));
      return timeChartOption({ series, range: { fromMs: now - this.windowS() * 1000, toMs: now } });
    }
    // Synthetic: a noisy sine with rare spikes, one point a second.
    const n = this.points();
    const t0 = Date.now() - n * 1000;
    this.xs = new Float64Array(n);
    this.ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.xs[i] = t0 + i * 1000;
      this.ys[i] = 50 + 10 * Math.sin(i / 300) + Math.random() * 2 + (i % 9973 === 0 ? 40 : 0);
    }
    return this.syntheticOption().option;
  });
  private xs = new Float64Array(0);
  private ys = new Float64Array(0);

  /** Pure (called from a computed): the option and how many points it draws. */
  private syntheticOption(): { option: ChartOption; drawn: number } {
    const [dx, dy] = lttb(this.xs, this.ys, 2000);
    const option = timeChartOption({
      series: [{ name: 'synthetic', points: dx.map((x, i) => [x, dy[i]!] as [number, number]) }],
      range: { fromMs: this.xs[0]!, toMs: this.xs[this.xs.length - 1]! },
    });
    return { option, drawn: dx.length };
  }

  constructor() {
    effect((onCleanup) => {
      if (this.modeName() !== 'live') return;
      const max = this.series();
      const windowMs = this.windowS() * 1000;
      const pending: Array<[string, number, number]> = [];
      const stop = this.live.telemetry(undefined, (t) => {
        for (const v of t.values)
          if (v.value !== null) pending.push([`${t.deviceId} ${v.metric}`, Date.parse(v.ts), v.value]);
      });
      // Applied once a second: the page redraws at 1 Hz whatever the push rate.
      const timer = setInterval(() => {
        if (pending.length === 0) return;
        const batch = pending.splice(0);
        this.received.update((r) => r + batch.length);
        this.liveData.update((map) => {
          const next = new Map(map);
          const cutoff = Date.now() - windowMs;
          for (const [key, t, v] of batch) {
            if (!next.has(key) && next.size >= max) continue;
            const points = next.get(key) ?? [];
            points.push([t, v]);
            while (points.length && points[0]![0] < cutoff) points.shift();
            next.set(key, points);
          }
          return next;
        });
      }, 1000);
      onCleanup(() => {
        stop();
        clearInterval(timer);
      });
    });
  }

  /** Draw time = downsampling + setOption + ECharts' render, timed from a chart that is already loaded. */
  protected onReady(chart: ECharts): void {
    if (this.modeName() !== 'chart') return;
    setTimeout(() => {
      const started = performance.now();
      chart.on('finished', () => {
        if (this.drawMs() === null) this.drawMs.set(Math.round(performance.now() - started));
      });
      const { option, drawn } = this.syntheticOption();
      chart.setOption(option, true);
      this.drawnPoints.set(drawn);
    }, 500);
  }
}
