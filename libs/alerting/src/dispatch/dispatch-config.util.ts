import type { AlertingConfig } from '../alerting.config.js';
import type { Integration } from '../notify/notify-pipeline.js';
import { receiverManifest, receiverTypes } from '../receivers/receiver-registry.js';
import '../receivers/index.js';
import type { DispatchConfig } from './dispatch-config.type.js';
import { Inhibitor } from './inhibitor.js';
import { parseMatcher } from './label-matcher.util.js';
import { buildRoute, type RouteConfig } from './route-tree.js';

export class NotificationConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid alerting notification config: ${problems.join('; ')}`);
    this.name = 'NotificationConfigError';
  }
}

/** Receivers, routing tree and inhibition from the config, every problem named by its path. */
export function buildDispatchConfig(config: AlertingConfig): DispatchConfig {
  const problems: string[] = [];
  const receivers = new Map<string, Integration[]>();
  config.receivers.forEach((r, i) => {
    if (receivers.has(r.name)) problems.push(`alerting.receivers[${i}].name: duplicate receiver ${r.name}`);
    const integrations: Integration[] = [];
    for (const [type, list] of Object.entries(r)) {
      if (type === 'name') continue;
      const manifest = receiverManifest(type);
      if (!manifest) {
        problems.push(
          `alerting.receivers[${i}].${type}: unknown receiver type (known: ${receiverTypes().join(', ')})`,
        );
        continue;
      }
      (list as unknown[]).forEach((raw, j) => {
        const parsed = manifest.schema.safeParse(raw);
        if (!parsed.success) {
          for (const issue of parsed.error.issues)
            problems.push(
              `alerting.receivers[${i}].${type}[${j}]${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`,
            );
          return;
        }
        const settings = parsed.data as { sendResolved?: boolean };
        integrations.push({
          name: `${r.name}/${type}[${j}]`,
          notifier: manifest.create(parsed.data, { externalUrl: config.externalUrl }),
          sendResolved: settings.sendResolved ?? true,
        });
      });
    }
    receivers.set(r.name, integrations);
  });
  const routeConfig: RouteConfig = config.route ?? { receiver: config.receivers[0]?.name ?? 'none' };
  if (!receivers.has('none') && routeConfig.receiver === 'none') receivers.set('none', []);
  const checkRoute = (route: RouteConfig, path: string) => {
    if (route.receiver !== undefined && !receivers.has(route.receiver))
      problems.push(`${path}.receiver: no receiver named ${route.receiver}`);
    (route.matchers ?? []).forEach((m, i) => {
      try {
        parseMatcher(m);
      } catch (error) {
        problems.push(`${path}.matchers[${i}]: ${(error as Error).message}`);
      }
    });
    (route.routes ?? []).forEach((child, i) => checkRoute(child, `${path}.routes[${i}]`));
  };
  checkRoute(routeConfig, 'alerting.route');
  if (!routeConfig.receiver) problems.push('alerting.route.receiver: the root route needs a receiver');
  let inhibitor: Inhibitor | undefined;
  try {
    inhibitor = new Inhibitor(config.inhibitRules);
  } catch (error) {
    problems.push(`alerting.inhibitRules: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new NotificationConfigError(problems);
  return {
    route: buildRoute(routeConfig),
    receivers,
    inhibitor: inhibitor!,
    sendResolvedWhenSilenced: config.sendResolvedWhenSilenced,
  };
}
