import type { Routes } from '@angular/router';
import { roleGuard, signedInGuard } from './core/auth/auth.guard';

/** Every page is its own lazy chunk; the shell (navigation, time range, live switch) wraps the signed-in ones. */
export const routes: Routes = [
  {
    path: 'sign-in',
    title: 'Sign in · Sentio',
    loadComponent: () => import('./features/sign-in/sign-in.page'),
  },
  {
    path: '',
    canActivate: [signedInGuard],
    loadComponent: () => import('./core/shell/shell.component'),
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'fleet' },
      { path: 'fleet', title: 'Fleet · Sentio', loadComponent: () => import('./features/fleet/fleet.page') },
      {
        path: 'devices/:deviceId',
        title: 'Device · Sentio',
        loadComponent: () => import('./features/device/device.page'),
      },
      {
        // Not /metrics: the platform serves its Prometheus metrics there.
        path: 'explore',
        title: 'Metrics · Sentio',
        loadComponent: () => import('./features/metrics/metrics.page'),
      },
      { path: 'logs', title: 'Logs · Sentio', loadComponent: () => import('./features/logs/logs.page') },
      {
        path: 'traces',
        title: 'Traces · Sentio',
        loadComponent: () => import('./features/traces/traces.page'),
      },
      {
        path: 'traces/:traceId',
        title: 'Trace · Sentio',
        loadComponent: () => import('./features/traces/trace.page'),
      },
      {
        path: 'anomalies',
        title: 'Anomalies · Sentio',
        loadComponent: () => import('./features/anomalies/anomalies.page'),
      },
      {
        path: 'alerts',
        title: 'Alerts · Sentio',
        loadComponent: () => import('./features/alerts/alerts.page'),
      },
      {
        path: 'alerts/rules',
        title: 'Alert rules · Sentio',
        loadComponent: () => import('./features/alerts/rules.page'),
      },
      {
        path: 'system',
        title: 'System · Sentio',
        canActivate: [roleGuard('operator')],
        loadComponent: () => import('./features/system/system.page'),
      },
      {
        path: 'settings',
        title: 'Settings · Sentio',
        loadComponent: () => import('./features/settings/settings.page'),
      },
      {
        path: 'admin',
        title: 'Administration · Sentio',
        canActivate: [roleGuard('admin')],
        loadComponent: () => import('./features/settings/admin.page'),
      },
      {
        path: 'diagnostics',
        title: 'Diagnostics · Sentio',
        loadComponent: () => import('./features/diagnostics/diagnostics.page'),
      },
      {
        path: 'forbidden',
        title: 'Not allowed · Sentio',
        loadComponent: () => import('./features/sign-in/forbidden.page'),
      },
    ],
  },
  { path: '**', redirectTo: 'fleet' },
];
