import type { Role } from '../auth/roles.util';

export interface NavItem {
  path: string;
  label: string;
  role: Role;
}

/** The navigation, shaped by role: a viewer never sees links to pages the API would refuse. */
export const NAV_ITEMS: readonly NavItem[] = [
  { path: '/fleet', label: 'Fleet', role: 'viewer' },
  // Not /metrics: the platform serves its Prometheus metrics there.
  { path: '/explore', label: 'Metrics explorer', role: 'viewer' },
  { path: '/logs', label: 'Logs', role: 'viewer' },
  { path: '/traces', label: 'Traces', role: 'viewer' },
  { path: '/anomalies', label: 'Anomalies & forecasts', role: 'viewer' },
  { path: '/alerts', label: 'Alerts', role: 'viewer' },
  { path: '/system', label: 'System status', role: 'operator' },
  { path: '/settings', label: 'Settings', role: 'viewer' },
  { path: '/admin', label: 'Users & audit', role: 'admin' },
];
