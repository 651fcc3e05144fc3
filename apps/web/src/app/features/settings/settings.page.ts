import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, inject, resource, signal } from '@angular/core';
import { Router } from '@angular/router';
import { ApiClient } from '../../core/api/api-client.service';
import { AuthService } from '../../core/auth/auth.service';
import { ROLES } from '../../core/auth/roles.util';

interface ApiKey {
  keyId: string;
  name: string;
  role: string;
  createdBy: string;
  createdAt: string;
  revoked: boolean;
}

@Component({
  selector: 'sn-settings',
  imports: [DatePipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Settings</h1>
      <article class="sn-card">
        <h2>Change password</h2>
        <form class="sn-stack" (submit)="changePassword($event)">
          <label
            >Current password <input name="current" type="password" autocomplete="current-password" required
          /></label>
          <label
            >New password
            <input name="next" type="password" autocomplete="new-password" minlength="12" required
          /></label>
          <button type="submit">Change password</button>
          @if (passwordMessage()) {
            <p role="status">{{ passwordMessage() }}</p>
          }
        </form>
      </article>
      @if (auth.can('admin')) {
        <article class="sn-card">
          <h2>API keys</h2>
          <form class="sn-row" (submit)="createKey($event)">
            <label>Name <input name="name" required pattern="[\\w.@-]{3,64}" /></label>
            <label>
              Role
              <select name="role">
                @for (r of roles; track r) {
                  <option [value]="r">{{ r }}</option>
                }
              </select>
            </label>
            <button type="submit" data-testid="create-key">Create key</button>
          </form>
          @if (newKey()) {
            <p role="status">
              Copy the key now, it is not shown again: <code data-testid="new-key">{{ newKey() }}</code>
            </p>
          }
          @if (keyError()) {
            <p class="sn-error" role="alert">{{ keyError() }}</p>
          }
          <table class="sn-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              @for (k of (keys.hasValue() ? keys.value() : undefined) ?? []; track k.keyId) {
                <tr>
                  <td>{{ k.name }}</td>
                  <td>{{ k.role }}</td>
                  <td>{{ k.createdAt | date: 'MMM d, y HH:mm' }}</td>
                  <td>{{ k.createdBy }}</td>
                  <td>
                    @if (k.revoked) {
                      <span class="sn-muted">revoked</span>
                    } @else {
                      <button type="button" (click)="revoke(k.keyId)" [attr.aria-label]="'Revoke ' + k.name">
                        Revoke
                      </button>
                    }
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </article>
      }
    </section>
  `,
})
export default class SettingsPage {
  protected readonly auth = inject(AuthService);
  private readonly api = inject(ApiClient);
  private readonly router = inject(Router);
  protected readonly roles = ROLES;
  protected readonly passwordMessage = signal('');
  protected readonly newKey = signal('');
  protected readonly keyError = signal('');
  private readonly keysVersion = signal(0);
  protected readonly keys = resource({
    params: () => ({ v: this.keysVersion(), admin: this.auth.can('admin') }),
    loader: ({ params }) => (params.admin ? this.api.get<ApiKey[]>('/api/keys') : Promise.resolve([])),
  });

  protected async changePassword(event: Event): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    try {
      await this.auth.changePassword(String(form.get('current')), String(form.get('next')));
      await this.router.navigate(['/sign-in']);
    } catch (error) {
      this.passwordMessage.set(error instanceof Error ? error.message : String(error));
    }
  }

  protected async createKey(event: Event): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this.keyError.set('');
    try {
      const created = await this.api.post<{ apiKey: string }>('/api/keys', {
        name: form.get('name'),
        role: form.get('role'),
      });
      this.newKey.set(created?.apiKey ?? '');
      this.keysVersion.update((v) => v + 1);
    } catch (error) {
      this.keyError.set(error instanceof Error ? error.message : String(error));
    }
  }

  protected async revoke(keyId: string): Promise<void> {
    await this.api.delete(`/api/keys/${encodeURIComponent(keyId)}`);
    this.keysVersion.update((v) => v + 1);
  }
}
