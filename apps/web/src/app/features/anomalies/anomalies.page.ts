import { DatePipe, DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, resource } from '@angular/core';
import { RouterLink } from '@angular/router';
import { ApiClient } from '../../core/api/api-client.service';
import type { Anomaly, DeviceAnomalyScore, Forecast } from '../../core/api/api.types';
import { TimeRangeService } from '../../core/time/time-range.service';
import { DeviceDataService } from '../device/device-data.service';
import { formatDuration } from '../device/device-chart.util';
import { FleetService } from '../fleet/fleet.service';

/** Forecasts are read per device: at most this many devices (those with anomalies first) are asked. */
const FORECAST_DEVICES = 60;

@Component({
  selector: 'sn-anomalies',
  imports: [DatePipe, DecimalPipe, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Anomalies & forecasts</h1>
      <div class="sn-grid">
        <article class="sn-card">
          <h2>Top devices by score</h2>
          <table class="sn-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Max score</th>
                <th scope="col">Anomalies</th>
                <th scope="col">Last</th>
                <th scope="col">Model</th>
              </tr>
            </thead>
            <tbody>
              @for (d of (top.hasValue() ? top.value() : undefined) ?? []; track d.deviceId) {
                <tr data-testid="top-device">
                  <td>
                    <a [routerLink]="['/devices', d.deviceId]" queryParamsHandling="merge">{{
                      d.deviceId
                    }}</a>
                  </td>
                  <td>{{ d.maxScore | number: '1.2-2' }}</td>
                  <td>{{ d.anomalies }}</td>
                  <td>{{ d.lastAnomaly | date: 'MMM d HH:mm:ss' }}</td>
                  <td>{{ d.modelVersion }}</td>
                </tr>
              } @empty {
                <tr>
                  <td colspan="5" class="sn-muted">No anomalies in this range.</td>
                </tr>
              }
            </tbody>
          </table>
        </article>
        <article class="sn-card">
          <h2>Forecasts at risk</h2>
          <table class="sn-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Metric</th>
                <th scope="col">Risk</th>
                <th scope="col">Limit reached in</th>
              </tr>
            </thead>
            <tbody>
              @for (
                f of (atRisk.hasValue() ? atRisk.value() : undefined) ?? [];
                track f.deviceId + f.metric
              ) {
                <tr data-testid="forecast-row">
                  <td>
                    <a [routerLink]="['/devices', f.deviceId]" queryParamsHandling="merge">{{
                      f.deviceId
                    }}</a>
                  </td>
                  <td>{{ f.metric }}</td>
                  <td>
                    <span class="sn-badge" [class.danger]="f.risk === 'HIGH'">{{ f.risk }}</span>
                  </td>
                  <td>{{ f.timeToFailureMs !== null ? duration(f.timeToFailureMs) : '—' }}</td>
                </tr>
              } @empty {
                <tr>
                  <td colspan="4" class="sn-muted">
                    {{ atRisk.isLoading() ? 'Loading…' : 'No forecast at risk.' }}
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </article>
      </div>
      <article class="sn-card">
        <h2>Anomalies</h2>
        <table class="sn-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Device</th>
              <th scope="col">Score / threshold</th>
              <th scope="col">Contributions</th>
              <th scope="col">Model</th>
            </tr>
          </thead>
          <tbody>
            @for (
              a of (list.hasValue() ? list.value() : undefined) ?? [];
              track a.ts + a.deviceId + a.windowStart
            ) {
              <tr data-testid="anomaly-row">
                <td>{{ a.windowStart | date: 'MMM d HH:mm:ss' }}</td>
                <td>
                  <a [routerLink]="['/devices', a.deviceId]" queryParamsHandling="merge">{{ a.deviceId }}</a>
                </td>
                <td>{{ a.score | number: '1.2-2' }} / {{ a.threshold | number: '1.2-2' }}</td>
                <td class="bars">
                  @for (c of a.contributions.slice(0, 4); track c.metric) {
                    <div class="sn-bar">
                      <span>{{ c.metric }}</span><span
                        class="sn-fill"
                        [style.width.%]="share(a, c.error)"
                        [attr.aria-label]="share(a, c.error) + '%'"
                      ></span>
                    </div>
                  }
                </td>
                <td>{{ a.modelVersion }}</td>
              </tr>
            } @empty {
              <tr>
                <td colspan="5" class="sn-muted">No anomalies in this range.</td>
              </tr>
            }
          </tbody>
        </table>
      </article>
    </section>
  `,
  styles: `
    .bars {
      min-width: 14rem;
    }
  `,
})
export default class AnomaliesPage {
  private readonly api = inject(ApiClient);
  private readonly data = inject(DeviceDataService);
  private readonly fleet = inject(FleetService);
  protected readonly time = inject(TimeRangeService);

  protected readonly top = resource({
    params: () => this.time.range(),
    loader: async ({ params, abortSignal }) =>
      (
        await this.api.query<{ topAnomalousDevices: DeviceAnomalyScore[] }>(
          'query T($from: String, $to: String) { topAnomalousDevices(from: $from, to: $to, limit: 20) { deviceId maxScore anomalies lastAnomaly modelVersion } }',
          { from: new Date(params.fromMs).toISOString(), to: new Date(params.toMs).toISOString() },
          abortSignal,
        )
      ).topAnomalousDevices,
  });
  protected readonly list = resource({
    params: () => this.time.range(),
    loader: ({ params, abortSignal }) =>
      this.data.anomalies(undefined, params.fromMs, params.toMs, 200, abortSignal),
  });
  protected readonly atRisk = resource({
    params: () => ({ ...this.time.range(), top: (this.top.hasValue() ? this.top.value() : undefined) ?? [] }),
    loader: async ({ params, abortSignal }) => {
      const devices = await this.fleet.load(abortSignal);
      const ordered = [
        ...new Set([...params.top.map((t) => t.deviceId), ...devices.map((d) => d.deviceId)]),
      ].slice(0, FORECAST_DEVICES);
      const found: Forecast[] = [];
      const fromMs = params.toMs - 86_400_000;
      for (let i = 0; i < ordered.length; i += 6) {
        const batch = await Promise.all(
          ordered.slice(i, i + 6).map((d) => this.data.forecasts(d, fromMs, params.toMs, abortSignal)),
        );
        found.push(...batch.flat().filter((f) => f.risk !== 'NONE'));
      }
      return found.sort((a, b) => (a.timeToFailureMs ?? Infinity) - (b.timeToFailureMs ?? Infinity));
    },
  });

  protected duration(ms: number): string {
    return formatDuration(ms);
  }

  protected share(anomaly: Anomaly, error: number): number {
    const total = anomaly.contributions.reduce((sum, c) => sum + c.error, 0);
    return total > 0 ? Math.round((100 * error) / total) : 0;
  }
}
