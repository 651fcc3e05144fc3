import type { Integration } from '../notify/notify-pipeline.js';
import type { Inhibitor } from './inhibitor.js';
import type { Route } from './route-tree.js';

/** Config-derived parts, rebuilt and swapped whole on a config change (Alertmanager's reloader). */
export interface DispatchConfig {
  route: Route;
  receivers: Map<string, Integration[]>;
  inhibitor: Inhibitor;
  /** Resolved notifications also for alerts that were silenced. */
  sendResolvedWhenSilenced: boolean;
}
