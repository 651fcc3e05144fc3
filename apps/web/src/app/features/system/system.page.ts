import { DatePipe, DecimalPipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, resource } from '@angular/core';
import { ApiClient, ApiError } from '../../core/api/api-client.service';
import type { SystemStatus } from '../../core/api/api.types';
import { AuthService } from '../../core/auth/auth.service';
import { TimeRangeService } from '../../core/time/time-range.service';

interface DeadLetters {
  total: number;
  byReason: Array<{ component: string; sourceTopic: string; reason: string; count: number }>;
  items: Array<{
    ts: string;
    component: string;
    reason: string;
    sourceTopic: string;
    partition: number;
    offset: string;
    valuePreview: string;
  }>;
}

@Component({
  selector: 'sn-system',
  imports: [DatePipe, DecimalPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>System status</h1>
      @if (status.error()) {
        <p class="sn-error" role="alert">{{ status.error() }}</p>
      }
      @if (status.hasValue() ? status.value() : undefined; as s) {
        <p>
          Overall:
          <span
            class="sn-badge"
            [class.online]="s.status === 'up'"
            [class.stale]="s.status === 'degraded'"
            [class.danger]="s.status === 'down'"
            data-testid="system-overall"
            >{{ s.status }}</span
          >
        </p>
        <div class="sn-grid">
          <article class="sn-card">
            <h2>Components</h2>
            <table class="sn-table">
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col">State</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                @for (c of s.components; track c.name) {
                  <tr data-testid="component-row">
                    <td>{{ c.name }}</td>
                    <td>
                      <span
                        class="sn-badge"
                        [class.online]="c.state === 'up'"
                        [class.stale]="c.state === 'degraded'"
                        [class.danger]="c.state === 'down'"
                        >{{ c.state }}</span
                      >
                    </td>
                    <td>
                      <code>{{ c.detail }}</code>
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          </article>
          <article class="sn-card">
            <h2>Consumer lag</h2>
            <table class="sn-table">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Lag</th>
                  <th scope="col">Per topic</th>
                </tr>
              </thead>
              <tbody>
                @for (g of s.consumerGroups; track g.groupId) {
                  <tr>
                    <td>{{ g.groupId }}</td>
                    <td>{{ g.lag | number }}</td>
                    <td>
                      @for (t of g.topics; track t.topic) {
                        <div>{{ t.topic }}: {{ t.lag | number }}</div>
                      }
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          </article>
          <article class="sn-card">
            <h2>Tables</h2>
            <table class="sn-table">
              <thead>
                <tr>
                  <th scope="col">Table</th>
                  <th scope="col">Rows</th>
                  <th scope="col">On disk</th>
                  <th scope="col">Parts</th>
                </tr>
              </thead>
              <tbody>
                @for (t of s.tables; track t.table) {
                  <tr>
                    <td>{{ t.table }}</td>
                    <td>{{ t.rows | number }}</td>
                    <td>{{ t.bytesOnDisk / 1048576 | number: '1.1-1' }} MiB</td>
                    <td>{{ t.parts }}</td>
                  </tr>
                }
              </tbody>
            </table>
          </article>
        </div>
      }
      @if (auth.can('admin')) {
        <article class="sn-card">
          <h2>Dead letters</h2>
          @if (deadLetters.hasValue() ? deadLetters.value() : undefined; as d) {
            <p>{{ d.total | number }} in total</p>
            <table class="sn-table">
              <thead>
                <tr>
                  <th scope="col">Component</th>
                  <th scope="col">Source topic</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Count</th>
                </tr>
              </thead>
              <tbody>
                @for (r of d.byReason; track r.component + r.sourceTopic + r.reason) {
                  <tr>
                    <td>{{ r.component }}</td>
                    <td>{{ r.sourceTopic }}</td>
                    <td>{{ r.reason }}</td>
                    <td>{{ r.count | number }}</td>
                  </tr>
                }
              </tbody>
            </table>
            <h3>Recent</h3>
            <table class="sn-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Component</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Where</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                @for (i of d.items.slice(0, 100); track i.sourceTopic + i.partition + i.offset) {
                  <tr>
                    <td>{{ i.ts | date: 'MMM d HH:mm:ss' }}</td>
                    <td>{{ i.component }}</td>
                    <td>{{ i.reason }}</td>
                    <td>{{ i.sourceTopic }}/{{ i.partition }}@{{ i.offset }}</td>
                    <td>
                      <code>{{ i.valuePreview }}</code>
                    </td>
                  </tr>
                } @empty {
                  <tr>
                    <td colspan="5" class="sn-muted">None.</td>
                  </tr>
                }
              </tbody>
            </table>
          } @else if (deadLetters.error()) {
            <p class="sn-muted">{{ deadLetterError() }}</p>
          }
        </article>
      }
    </section>
  `,
  styles: `
    code {
      word-break: break-all;
    }
  `,
})
export default class SystemPage {
  private readonly api = inject(ApiClient);
  protected readonly auth = inject(AuthService);
  private readonly time = inject(TimeRangeService);

  protected readonly status = resource({
    params: () => this.time.tick(),
    loader: async ({ abortSignal }) =>
      (
        await this.api.query<{ systemStatus: SystemStatus }>(
          '{ systemStatus { status components { name state detail } consumerGroups { groupId lag topics { topic lag } } tables { table rows bytesOnDisk parts } } }',
          {},
          abortSignal,
        )
      ).systemStatus,
  });
  protected readonly deadLetters = resource({
    params: () => ({ tick: this.time.tick(), admin: this.auth.can('admin') }),
    loader: async ({ params, abortSignal }) =>
      params.admin
        ? this.api.get<DeadLetters>('/api/system/dead-letters', { limit: 100 }, abortSignal)
        : undefined,
  });

  protected deadLetterError(): string {
    const error = this.deadLetters.error();
    return error instanceof ApiError && error.status === 404
      ? 'This API does not expose dead letters.'
      : String(error);
  }
}
