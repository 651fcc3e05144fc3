import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, resource, signal } from '@angular/core';
import { ApiClient } from '../../core/api/api-client.service';
import { ROLES } from '../../core/auth/roles.util';
import { TimeRangeService } from '../../core/time/time-range.service';

interface User {
  username: string;
  role: string;
  disabled: boolean;
}

interface AuditEvent {
  ts: string;
  actor: string;
  actorKind: string;
  action: string;
  target: string;
  detail: string;
  ip: string;
}

/** Admin only (route guard here, role check on the API): users and roles, the audit trail. */
@Component({
  selector: 'sn-admin',
  imports: [DatePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Users & audit</h1>
      <article class="sn-card">
        <h2>Users</h2>
        <form class="sn-row" (submit)="createUser($event)">
          <label>Username <input name="username" required pattern="[a-z0-9][a-z0-9._@-]{2,63}" /></label>
          <label
            >Password
            <input name="password" type="password" minlength="12" autocomplete="new-password" required
          /></label>
          <label>
            Role
            <select name="role">
              @for (r of roles; track r) {
                <option [value]="r">{{ r }}</option>
              }
            </select>
          </label>
          <button type="submit">Add user</button>
        </form>
        @if (message()) {
          <p role="status">{{ message() }}</p>
        }
        <table class="sn-table" data-testid="users">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            @for (u of (users.hasValue() ? users.value() : undefined) ?? []; track u.username) {
              <tr>
                <td>{{ u.username }}</td>
                <td>{{ u.role }}</td>
                <td>{{ u.disabled ? 'disabled' : 'active' }}</td>
              </tr>
            }
          </tbody>
        </table>
      </article>
      <article class="sn-card">
        <h2>Audit trail</h2>
        <table class="sn-table" data-testid="audit">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Detail</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            @for (e of (audit.hasValue() ? audit.value() : undefined) ?? []; track $index) {
              <tr>
                <td>{{ e.ts | date: 'MMM d HH:mm:ss' }}</td>
                <td>
                  {{ e.actor }} <span class="sn-muted">({{ e.actorKind }})</span>
                </td>
                <td>{{ e.action }}</td>
                <td>{{ e.target }}</td>
                <td>{{ e.detail }}</td>
                <td>{{ e.ip }}</td>
              </tr>
            } @empty {
              <tr>
                <td colspan="6" class="sn-muted">Nothing recorded in this range.</td>
              </tr>
            }
          </tbody>
        </table>
      </article>
    </section>
  `,
})
export default class AdminPage {
  private readonly api = inject(ApiClient);
  private readonly time = inject(TimeRangeService);
  protected readonly roles = ROLES;
  protected readonly message = signal('');
  private readonly version = signal(0);
  protected readonly users = resource({
    params: () => this.version(),
    loader: () => this.api.get<User[]>('/api/users'),
  });
  protected readonly audit = resource({
    params: () => ({ ...this.time.range(), v: this.version() }),
    loader: ({ params, abortSignal }) =>
      this.api.get<AuditEvent[]>(
        '/api/audit',
        { from: new Date(params.fromMs).toISOString(), to: new Date(params.toMs).toISOString(), limit: 200 },
        abortSignal,
      ),
  });

  protected async createUser(event: Event): Promise<void> {
    event.preventDefault();
    const formEl = event.target as HTMLFormElement;
    const form = new FormData(formEl);
    try {
      await this.api.post('/api/users', {
        username: form.get('username'),
        password: form.get('password'),
        role: form.get('role'),
      });
      this.message.set(`User ${String(form.get('username'))} added.`);
      formEl.reset();
      this.version.update((v) => v + 1);
    } catch (error) {
      this.message.set(error instanceof Error ? error.message : String(error));
    }
  }
}
