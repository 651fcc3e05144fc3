import { matchesAll, parseMatcher, type LabelMatcher, type Labels } from './label-matcher.util.js';

export interface RouteConfig {
  receiver?: string | undefined;
  matchers?: string[] | undefined;
  groupBy?: string[] | undefined;
  groupWait?: number | undefined;
  groupInterval?: number | undefined;
  repeatInterval?: number | undefined;
  continue?: boolean | undefined;
  routes?: RouteConfig[] | undefined;
}

/** A node of the routing tree with its inherited settings resolved (Alertmanager's dispatch/route.go). */
export interface Route {
  id: string;
  receiver: string;
  matchers: LabelMatcher[];
  /** `...` groups by every label (one group per alert). */
  groupBy: string[];
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  continue: boolean;
  routes: Route[];
}

export function buildRoute(config: RouteConfig, parent?: Route, id = '0'): Route {
  if (!parent && !config.receiver) throw new Error('route: the root route needs a receiver');
  const route: Route = {
    id,
    receiver: config.receiver ?? parent!.receiver,
    matchers: (config.matchers ?? []).map(parseMatcher),
    groupBy: config.groupBy ?? parent?.groupBy ?? ['alertname'],
    groupWait: config.groupWait ?? parent?.groupWait ?? 30_000,
    groupInterval: config.groupInterval ?? parent?.groupInterval ?? 300_000,
    repeatInterval: config.repeatInterval ?? parent?.repeatInterval ?? 4 * 3_600_000,
    continue: config.continue ?? false,
    routes: [],
  };
  route.routes = (config.routes ?? []).map((child, i) => buildRoute(child, route, `${id}.${i}`));
  return route;
}

/** The routes an alert goes to: the deepest matching child of each matching branch; `continue` goes on to siblings. */
export function matchRoutes(route: Route, labels: Labels): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const out: Route[] = [];
  for (const child of route.routes) {
    const matched = matchRoutes(child, labels);
    out.push(...matched);
    if (matched.length > 0 && !child.continue) break;
  }
  return out.length > 0 ? out : [route];
}

export function groupLabels(route: Route, labels: Labels): Labels {
  if (route.groupBy.includes('...')) return { ...labels };
  const out: Labels = {};
  for (const name of route.groupBy) if (labels[name] !== undefined) out[name] = labels[name];
  return out;
}

export function groupKey(route: Route, group: Labels): string {
  const body = Object.keys(group)
    .sort()
    .map((k) => `${k}=${JSON.stringify(group[k])}`)
    .join(',');
  return `${route.id}:{${body}}`;
}
