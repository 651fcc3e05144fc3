import type { AlertingConfig } from '../alerting.config.js';
import { formatDuration } from '../rules/duration.util.js';

const SECRET_KEY = /secret|password|token|apikey/i;
const MASK = '***';

/** A URL without credentials and query; a Slack incoming-webhook URL's path is its secret, so it goes too. */
function redactUrl(value: string, type: string): string {
  try {
    const url = new URL(value);
    url.username = '';
    url.password = '';
    url.search = '';
    if (type === 'slack') url.pathname = `/${MASK}`;
    return url.toString();
  } catch {
    return MASK;
  }
}

function redact(value: unknown, type: string, key = ''): unknown {
  if (SECRET_KEY.test(key)) return MASK;
  if (key === 'url' && typeof value === 'string') return redactUrl(value, type);
  if (Array.isArray(value)) return value.map((v) => redact(v, type));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, type, k)]));
  return value;
}

export interface ReceiverView {
  name: string;
  integrations: Array<{ name: string; type: string; settings: Record<string, unknown> }>;
}

/** Receivers as configured, each integration named as in delivery attempts, secrets masked. */
export function receiversView(config: AlertingConfig): ReceiverView[] {
  return config.receivers.map((r) => ({
    name: r.name,
    integrations: Object.entries(r)
      .filter(([type]) => type !== 'name')
      .flatMap(([type, list]) =>
        (list as Array<Record<string, unknown>>).map((settings, i) => ({
          name: `${r.name}/${type}[${i}]`,
          type,
          settings: redact(settings, type) as Record<string, unknown>,
        })),
      ),
  }));
}

interface RouteView {
  receiver?: string | undefined;
  matchers?: string[] | undefined;
  groupBy?: string[] | undefined;
  groupWait?: string | undefined;
  groupInterval?: string | undefined;
  repeatInterval?: string | undefined;
  continue?: boolean | undefined;
  routes?: RouteView[] | undefined;
}

type RouteInput = NonNullable<AlertingConfig['route']>;

function routeView(route: RouteInput): RouteView {
  const d = (ms: number | undefined) => (ms === undefined ? undefined : formatDuration(ms));
  return {
    receiver: route.receiver,
    matchers: route.matchers,
    groupBy: route.groupBy,
    groupWait: d(route.groupWait),
    groupInterval: d(route.groupInterval),
    repeatInterval: d(route.repeatInterval),
    continue: route.continue,
    routes: route.routes?.map(routeView),
  };
}

/** The routing tree as configured (durations as in YAML; unset fields inherit from the parent) and inhibition. */
export function routingView(config: AlertingConfig): {
  route: RouteView | null;
  inhibitRules: AlertingConfig['inhibitRules'];
  sendResolvedWhenSilenced: boolean;
} {
  return {
    route: config.route ? routeView(config.route) : null,
    inhibitRules: config.inhibitRules,
    sendResolvedWhenSilenced: config.sendResolvedWhenSilenced,
  };
}
