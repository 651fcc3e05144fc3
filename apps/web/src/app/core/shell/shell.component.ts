import { BreakpointObserver } from '@angular/cdk/layout';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { MatButtonModule } from '@angular/material/button';
import { MatMenuModule } from '@angular/material/menu';
import { MatSidenavModule } from '@angular/material/sidenav';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';
import { MatToolbarModule } from '@angular/material/toolbar';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { map } from 'rxjs';
import { AuthService } from '../auth/auth.service';
import { roleAtLeast } from '../auth/roles.util';
import { LiveService } from '../live/live.service';
import { TimeRangePickerComponent } from '../time/time-range-picker.component';
import { TimeRangeService } from '../time/time-range.service';
import { NAV_ITEMS } from './nav.constant';

/** The signed-in frame: role-shaped navigation, the shared time range, the live switch and its connection state. */
@Component({
  selector: 'sn-shell',
  imports: [
    MatButtonModule,
    MatMenuModule,
    MatSidenavModule,
    MatSlideToggleModule,
    MatToolbarModule,
    RouterLink,
    RouterLinkActive,
    RouterOutlet,
    TimeRangePickerComponent,
  ],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="skip" href="#main">Skip to content</a>
    <mat-sidenav-container class="container">
      <mat-sidenav
        #nav
        [mode]="narrow() ? 'over' : 'side'"
        [opened]="!narrow() || navOpen()"
        (closedStart)="navOpen.set(false)"
        class="nav"
      >
        <div class="brand">Sentio</div>
        <nav aria-label="Pages">
          <ul>
            @for (item of items(); track item.path) {
              <li>
                <a
                  [routerLink]="item.path"
                  routerLinkActive="active"
                  ariaCurrentWhenActive="page"
                  queryParamsHandling="merge"
                  [attr.data-testid]="'nav-' + item.path.slice(1)"
                  (click)="narrow() && navOpen.set(false)"
                  >{{ item.label }}</a
                >
              </li>
            }
          </ul>
        </nav>
      </mat-sidenav>
      <mat-sidenav-content>
        <mat-toolbar class="toolbar">
          @if (narrow()) {
            <button mat-icon-button aria-label="Open navigation" (click)="navOpen.set(true)">☰</button>
          }
          <sn-time-range-picker />
          <span class="spacer"></span>
          <mat-slide-toggle
            [checked]="time.live()"
            (change)="time.setLive($event.checked)"
            data-testid="live-switch"
            >Live</mat-slide-toggle
          >
          <span
            class="live-state {{ live.state() }}"
            role="status"
            aria-live="polite"
            data-testid="live-state"
            >{{ liveLabel() }}</span
          >
          <button
            mat-icon-button
            (click)="toggleTheme()"
            [attr.aria-label]="light() ? 'Dark theme' : 'Light theme'"
          >
            {{ light() ? '☾' : '☀' }}
          </button>
          <button mat-button [matMenuTriggerFor]="user" data-testid="user-menu">
            {{ auth.session()?.username }} <span class="role">({{ auth.role() }})</span>
          </button>
          <mat-menu #user="matMenu">
            <a mat-menu-item routerLink="/settings">Settings</a>
            <button mat-menu-item (click)="signOut()" data-testid="sign-out">Sign out</button>
          </mat-menu>
        </mat-toolbar>
        <main id="main" tabindex="-1">
          <router-outlet />
        </main>
      </mat-sidenav-content>
    </mat-sidenav-container>
  `,
  styles: `
    .container {
      height: 100vh;
    }
    .nav {
      width: 220px;
      background: var(--mat-sys-surface-container-low);
    }
    .brand {
      font: var(--mat-sys-title-large);
      padding: 16px;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0 8px;
    }
    li a {
      display: block;
      padding: 10px 12px;
      border-radius: 20px;
      color: var(--mat-sys-on-surface-variant);
      text-decoration: none;
      font: var(--mat-sys-label-large);
    }
    li a.active {
      background: var(--mat-sys-secondary-container);
      color: var(--mat-sys-on-secondary-container);
    }
    .toolbar {
      position: sticky;
      top: 0;
      z-index: 2;
      gap: 8px;
      flex-wrap: wrap;
      height: auto;
      min-height: 56px;
      background: var(--mat-sys-surface-container);
    }
    .spacer {
      flex: 1;
    }
    .live-state {
      font: var(--mat-sys-label-medium);
      padding: 2px 8px;
      border-radius: 10px;
      background: var(--mat-sys-surface-container-highest);
    }
    .live-state.connected {
      background: #1b5e20;
      color: #e8f5e9;
    }
    .live-state.reconnecting,
    .live-state.error {
      background: #8a5a00;
      color: #fff8e1;
    }
    .role {
      color: var(--mat-sys-on-surface-variant);
    }
    .skip {
      position: absolute;
      left: -999px;
    }
    .skip:focus {
      left: 8px;
      top: 8px;
      z-index: 10;
      background: var(--mat-sys-surface);
      padding: 8px;
    }
    main:focus {
      outline: none;
    }
  `,
})
export default class ShellComponent {
  protected readonly auth = inject(AuthService);
  protected readonly live = inject(LiveService);
  protected readonly time = inject(TimeRangeService);
  private readonly router = inject(Router);
  protected readonly narrow = toSignal(
    inject(BreakpointObserver)
      .observe('(max-width: 900px)')
      .pipe(map((s) => s.matches)),
    { initialValue: false },
  );
  protected readonly navOpen = signal(false);
  protected readonly light = signal(storedTheme() === 'light');
  protected readonly items = computed(() => NAV_ITEMS.filter((i) => roleAtLeast(this.auth.role(), i.role)));
  protected readonly liveLabel = computed(() => {
    if (!this.time.live()) return 'paused';
    const state = this.live.state();
    return state === 'off' ? 'live' : state;
  });

  constructor() {
    effect(() => {
      document.documentElement.classList.toggle('theme-light', this.light());
      document.documentElement.classList.toggle('theme-dark', !this.light());
    });
  }

  protected toggleTheme(): void {
    this.light.update((l) => !l);
    try {
      localStorage.setItem('sentio.theme', this.light() ? 'light' : 'dark');
    } catch {
      // storage unavailable: the choice lasts this tab only
    }
  }

  protected async signOut(): Promise<void> {
    await this.auth.signOut();
    await this.router.navigate(['/sign-in']);
  }
}

function storedTheme(): string | null {
  try {
    return localStorage.getItem('sentio.theme');
  } catch {
    return null;
  }
}
