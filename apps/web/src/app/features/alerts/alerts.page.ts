import { DatePipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  computed,
  inject,
  input,
  linkedSignal,
  resource,
  signal,
} from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { ApiClient } from '../../core/api/api-client.service';
import { AuthService } from '../../core/auth/auth.service';
import { TimeRangeService } from '../../core/time/time-range.service';

/** An alert as the alerting API returns it (the alert-event v2 record). */
interface Alert {
  alertId: string;
  timestampMs: number;
  state: string;
  severity: string;
  status: string;
  ruleId: string;
  ruleName?: string | null;
  deviceId?: string | null;
  title: string;
  description?: string | null;
  flapping?: boolean;
  assignee?: string | null;
  comment?: string | null;
}

interface Silence {
  id: string;
  matchers: string[];
  startsAt: number;
  endsAt: number;
  comment: string;
  createdBy?: string;
}

/**
 * Alerts from the alerting API (`/api/alerting`): the list with state and severity, acknowledge with a
 * comment, silences. Changes need the operator role (the API enforces it; the buttons follow it).
 */
@Component({
  selector: 'sn-alerts',
  imports: [DatePipe, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Alerts</h1>
      <div class="sn-filters">
        <label
          ><input type="checkbox" [checked]="allState()" (change)="setAll($event)" /> include resolved</label
        >
      </div>
      @if (alerts.error()) {
        <p class="sn-error" role="alert">{{ alerts.error() }}</p>
      }
      @if (message()) {
        <p role="status">{{ message() }}</p>
      }
      <table class="sn-table" aria-label="Alerts, newest first">
        <thead>
          <tr>
            <th scope="col">Since</th>
            <th scope="col">Severity</th>
            <th scope="col">Status</th>
            <th scope="col">Alert</th>
            <th scope="col">Device</th>
            <th scope="col">Acknowledged</th>
            @if (canChange()) {
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            }
          </tr>
        </thead>
        <tbody>
          @for (a of list(); track a.alertId) {
            <tr data-testid="alert-row">
              <td>{{ a.timestampMs | date: 'MMM d HH:mm:ss' }}</td>
              <td>
                <span class="sn-badge" [class.danger]="a.severity === 'CRITICAL' || a.severity === 'HIGH'">{{
                  a.severity
                }}</span>
              </td>
              <td>{{ a.status }}{{ a.flapping ? ' (flapping)' : '' }}</td>
              <td>
                <b>{{ a.ruleName || a.ruleId }}</b> {{ a.title }}
              </td>
              <td>
                @if (a.deviceId) {
                  <a [routerLink]="['/devices', a.deviceId]" queryParamsHandling="merge">{{ a.deviceId }}</a>
                }
              </td>
              <td>{{ a.comment ? (a.assignee ? a.assignee + ': ' : '') + a.comment : '' }}</td>
              @if (canChange()) {
                <td>
                  <form class="inline" (submit)="ack($event, a)">
                    <label
                      ><span class="visually-hidden">Comment for {{ a.title }}</span
                      ><input name="comment" placeholder="comment" required size="14"
                    /></label>
                    <button type="submit">Ack</button>
                  </form>
                  <button type="button" (click)="prefill(a)">Silence…</button>
                </td>
              }
            </tr>
          } @empty {
            <tr>
              <td colspan="7" class="sn-muted">No alerts.</td>
            </tr>
          }
        </tbody>
      </table>
      <article class="sn-card">
        <h2>Silences</h2>
        @if (canChange()) {
          <form class="silence" (submit)="silence($event)">
            <label
              >Matchers (one per line)
              <textarea name="matchers" rows="2" cols="40" required [value]="matchers()"></textarea>
            </label>
            <label>Duration <input name="duration" value="1h" size="6" required /></label>
            <label>Why <input name="comment" required size="24" /></label>
            <button type="submit">Silence</button>
          </form>
        }
        <table class="sn-table">
          <thead>
            <tr>
              <th scope="col">Matchers</th>
              <th scope="col">From</th>
              <th scope="col">Until</th>
              <th scope="col">Why</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            @for (s of silences.hasValue() ? silences.value() : []; track s.id) {
              <tr>
                <td>
                  <code>{{ s.matchers.join(', ') }}</code>
                </td>
                <td>{{ s.startsAt | date: 'MMM d HH:mm' }}</td>
                <td>{{ s.endsAt | date: 'MMM d HH:mm' }}</td>
                <td>{{ s.comment }}</td>
                <td>
                  @if (canChange() && s.endsAt > now()) {
                    <button type="button" (click)="expire(s.id)">Expire</button>
                  }
                </td>
              </tr>
            } @empty {
              <tr>
                <td colspan="5" class="sn-muted">No silences.</td>
              </tr>
            }
          </tbody>
        </table>
      </article>
      <p>
        <a routerLink="/alerts/rules" queryParamsHandling="merge">Alert rules</a>: the list, pause/resume, and
        the rule editor with its backtest preview.
      </p>
    </section>
  `,
  styles: `
    .inline,
    .silence {
      display: inline-flex;
      flex-wrap: wrap;
      gap: 6px;
      align-items: end;
    }
    .silence label {
      display: flex;
      flex-direction: column;
    }
  `,
})
export default class AlertsPage {
  private readonly api = inject(ApiClient);
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  private readonly time = inject(TimeRangeService);
  readonly state = input<string>();
  protected readonly allState = linkedSignal(() => this.state() === 'all');
  protected readonly canChange = computed(() => this.auth.can('operator'));
  protected readonly message = signal('');
  protected readonly matchers = signal('');
  private readonly version = signal(0);
  protected readonly now = computed(() => {
    this.version();
    this.time.tick();
    return Date.now();
  });

  protected readonly alerts = resource({
    params: () => ({ all: this.allState(), v: this.version(), tick: this.time.tick() }),
    loader: ({ params, abortSignal }) =>
      this.api.get<Alert[]>('/api/alerting/alerts', { state: params.all ? 'all' : undefined }, abortSignal),
  });
  protected readonly list = computed(() => (this.alerts.hasValue() ? this.alerts.value() : []));
  protected readonly silences = resource({
    params: () => ({ v: this.version(), tick: this.time.tick() }),
    loader: ({ abortSignal }) => this.api.get<Silence[]>('/api/alerting/silences', {}, abortSignal),
  });

  protected setAll(event: Event): void {
    const all = (event.target as HTMLInputElement).checked;
    this.allState.set(all);
    void this.router.navigate([], {
      queryParams: { state: all ? 'all' : null },
      queryParamsHandling: 'merge',
      replaceUrl: true,
    });
  }

  protected async ack(event: Event, alert: Alert): Promise<void> {
    event.preventDefault();
    const comment = String(new FormData(event.target as HTMLFormElement).get('comment') ?? '');
    await this.run(
      () => this.api.post(`/api/alerting/alerts/${encodeURIComponent(alert.alertId)}/ack`, { comment }),
      `Acknowledged ${alert.title}.`,
    );
  }

  protected prefill(alert: Alert): void {
    this.matchers.set(
      [`ruleId="${alert.ruleId}"`, ...(alert.deviceId ? [`deviceId="${alert.deviceId}"`] : [])].join('\n'),
    );
  }

  protected async silence(event: Event): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const matchers = String(form.get('matchers') ?? '')
      .split('\n')
      .map((m) => m.trim())
      .filter(Boolean);
    await this.run(
      () =>
        this.api.post('/api/alerting/silences', {
          matchers,
          duration: form.get('duration'),
          comment: form.get('comment'),
        }),
      'Silence created.',
    );
  }

  protected async expire(id: string): Promise<void> {
    await this.run(
      () => this.api.delete(`/api/alerting/silences/${encodeURIComponent(id)}`),
      'Silence expired.',
    );
  }

  private async run(action: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await action();
      this.message.set(done);
      this.version.update((v) => v + 1);
    } catch (error) {
      this.message.set(error instanceof Error ? error.message : String(error));
    }
  }
}
