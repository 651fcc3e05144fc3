import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Router } from '@angular/router';
import { AuthError, AuthService } from '../../core/auth/auth.service';

@Component({
  selector: 'sn-sign-in',
  imports: [FormsModule, MatButtonModule, MatFormFieldModule, MatInputModule],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <main class="wrap">
      <form class="card" (ngSubmit)="submit()" aria-labelledby="title">
        <h1 id="title">Sentio</h1>
        <p class="sn-muted">Sign in to the operator console</p>
        @if (noAdmin()) {
          <p class="sn-error" role="alert" data-testid="no-admin">{{ noAdmin() }}</p>
        }
        <mat-form-field appearance="outline">
          <mat-label>Username</mat-label>
          <input
            matInput
            name="username"
            autocomplete="username"
            required
            [(ngModel)]="username"
            data-testid="username"
          />
        </mat-form-field>
        <mat-form-field appearance="outline">
          <mat-label>Password</mat-label>
          <input
            matInput
            name="password"
            type="password"
            autocomplete="current-password"
            required
            [(ngModel)]="password"
            data-testid="password"
          />
        </mat-form-field>
        @if (error()) {
          <p class="sn-error" role="alert" data-testid="sign-in-error">{{ error() }}</p>
        }
        <button mat-flat-button type="submit" [disabled]="busy()" data-testid="sign-in">Sign in</button>
      </form>
    </main>
  `,
  styles: `
    .wrap {
      min-height: 100vh;
      display: grid;
      place-items: center;
      padding: 16px;
      box-sizing: border-box;
    }
    .card {
      display: flex;
      flex-direction: column;
      gap: 4px;
      width: min(360px, 100%);
      background: var(--mat-sys-surface-container);
      border-radius: 16px;
      padding: 24px;
    }
    h1 {
      font: var(--mat-sys-headline-medium);
      margin: 0;
    }
  `,
})
export default class SignInPage {
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  readonly next = input<string>();
  protected username = '';
  protected password = '';
  protected readonly busy = signal(false);
  protected readonly error = signal('');
  protected readonly noAdmin = signal('');

  constructor() {
    void this.auth.adminStatus().then((s) => {
      if (!s.adminExists)
        this.noAdmin.set(
          s.message ??
            'No admin exists yet: start the platform with SENTIO_ADMIN_USER and SENTIO_ADMIN_PASSWORD',
        );
    });
  }

  protected async submit(): Promise<void> {
    this.busy.set(true);
    this.error.set('');
    try {
      await this.auth.signIn(this.username, this.password);
      const next = this.next();
      // Only paths inside the console: never an open redirect.
      await this.router.navigateByUrl(
        next && next.startsWith('/') && !next.startsWith('//') ? next : '/fleet',
      );
    } catch (error) {
      this.error.set(error instanceof AuthError ? error.message : 'The API cannot be reached');
    } finally {
      this.busy.set(false);
    }
  }
}
