import type { AlertEvent } from '@sentio/events';
import type { Logger } from '@sentio/observability';
import type { DispatchedAlert } from '../notify/notification.type.js';
import type { NotifyPipeline } from '../notify/notify-pipeline.js';
import type { DispatchConfig } from './dispatch-config.type.js';
import { groupKey, groupLabels, matchRoutes, type Route } from './route-tree.js';
import type { Silences } from './silences.js';

interface AggregationGroup {
  key: string;
  route: Route;
  labels: Record<string, string>;
  alerts: Map<string, DispatchedAlert>;
  timer: NodeJS.Timeout | undefined;
  flushing: Promise<void> | undefined;
  flushedOnce: boolean;
}

export type MuteReason =
  { silencedBy: string[] } | { inhibitedBy: string } | { flapping: true } | { acknowledged: true };

/** An alert event as the dispatcher's alert (undefined: not notifiable, e.g. pending). */
export function toDispatched(
  event: AlertEvent,
  previous: DispatchedAlert | undefined,
): DispatchedAlert | undefined {
  const status =
    event.status ?? (event.state === 'FIRING' ? 'FIRING' : event.state === 'RESOLVED' ? 'RESOLVED' : null);
  if (status === 'ACKNOWLEDGED' || event.state === 'ACKNOWLEDGED') {
    if (!previous) return undefined;
    return {
      ...previous,
      acknowledged: {
        by: event.actor ?? 'unknown',
        assignee: event.assignee,
        comment: event.comment,
        at: event.timestampMs,
      },
    };
  }
  const firing = status === 'FIRING' || status === 'NODATA' || status === 'ERROR';
  if (!firing && status !== 'RESOLVED') {
    // Pending or inactive: nothing to notify; a flapping flag change on a resolved alert is kept.
    return previous ? { ...previous, flapping: event.flapping } : undefined;
  }
  // A resolution of an alert this dispatcher never saw firing (older than its history): nothing to say.
  if (!firing && !previous) return undefined;
  // A resolution keeps the labels the alert fired with: its severity is recomputed from the resolving data
  // (e.g. no forecast risk any more), and Alertmanager identifies alerts by their labels, so new labels
  // would resolve nothing there.
  const labels = !firing && previous ? { ...previous.labels } : { ...event.labels };
  if (status !== 'FIRING' && status !== 'RESOLVED') labels['alertstate'] = status.toLowerCase();
  return {
    fingerprint: event.alertId,
    seq: Number(event.sequence),
    status: firing ? 'firing' : 'resolved',
    detailStatus: status.toLowerCase(),
    labels,
    annotations: { ...event.annotations },
    startsAt: firing
      ? previous?.status === 'firing'
        ? previous.startsAt
        : event.timestampMs
      : (previous?.startsAt ?? event.timestampMs),
    endsAt: firing ? null : event.timestampMs,
    updatedAt: event.timestampMs,
    flapping: event.flapping,
    title: event.title,
    description: event.description,
    // An acknowledgement holds until the alert resolves.
    acknowledged: firing ? previous?.acknowledged : undefined,
  };
}

/**
 * Alertmanager's dispatcher over the alert events: routes each alert through the tree into aggregation
 * groups, flushes a group after group_wait, then every group_interval (the pipeline's dedup decides
 * whether anything is sent, repeat_interval included). Muting (silences, inhibition, flapping, acks)
 * happens at flush time. Timers run on processing time; alerts carry event time.
 */
export class Dispatcher {
  readonly alerts = new Map<string, DispatchedAlert>();
  private readonly groups = new Map<string, AggregationGroup>();
  private loading = true;
  private stopped = false;
  private abort = new AbortController();

  constructor(
    private config: DispatchConfig,
    readonly silences: Silences,
    private readonly pipeline: NotifyPipeline,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Applies one alert event (from the topic, in order). */
  apply(event: AlertEvent): void {
    const previous = this.alerts.get(event.alertId);
    if (previous && Number(event.sequence) > 0 && Number(event.sequence) < previous.seq) return;
    const next = toDispatched(event, previous);
    if (!next) return;
    this.alerts.set(next.fingerprint, next);
    if (!this.loading) this.route(next);
  }

  /** History loaded: from now on alerts are routed (nothing is notified from a half-read history). */
  startRouting(): void {
    this.loading = false;
    for (const alert of this.alerts.values()) this.route(alert);
  }

  /**
   * Another process dispatches now (multi-instance): groups and timers go, in-flight sends are aborted;
   * alerts keep being applied so routing can start again at once.
   */
  stopRouting(): void {
    this.loading = true;
    for (const g of this.groups.values()) clearTimeout(g.timer);
    this.groups.clear();
    this.abort.abort();
    this.abort = new AbortController();
  }

  /** Drops resolved alerts older than `ageMs` that no group holds any more. */
  gc(ageMs: number): void {
    const now = this.clock();
    const held = new Set<string>();
    for (const g of this.groups.values()) for (const f of g.alerts.keys()) held.add(f);
    for (const [f, a] of this.alerts)
      if (a.status === 'resolved' && a.endsAt !== null && now - a.updatedAt > ageMs && !held.has(f))
        this.alerts.delete(f);
  }

  /** Swaps routes, receivers and inhibition; groups are rebuilt under the new tree. */
  reconfigure(config: DispatchConfig): void {
    for (const g of this.groups.values()) clearTimeout(g.timer);
    this.groups.clear();
    this.config = config;
    if (!this.loading) for (const alert of this.alerts.values()) this.route(alert);
  }

  muteReason(alert: DispatchedAlert, now = this.clock()): MuteReason | undefined {
    const silencedBy = this.silences.mutedBy(alert.labels, now);
    if (alert.status === 'resolved') {
      return silencedBy.length > 0 && !this.config.sendResolvedWhenSilenced ? { silencedBy } : undefined;
    }
    if (silencedBy.length > 0) return { silencedBy };
    const inhibitedBy = this.config.inhibitor.inhibitedBy(alert.fingerprint, alert.labels, [
      ...this.firing(),
    ]);
    if (inhibitedBy) return { inhibitedBy };
    if (alert.flapping) return { flapping: true };
    if (alert.acknowledged) return { acknowledged: true };
    return undefined;
  }

  groupsSnapshot(): Array<{
    key: string;
    receiver: string;
    labels: Record<string, string>;
    alerts: string[];
  }> {
    return [...this.groups.values()].map((g) => ({
      key: g.key,
      receiver: g.route.receiver,
      labels: g.labels,
      alerts: [...g.alerts.keys()],
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.groups.values()) clearTimeout(g.timer);
    this.abort.abort();
    await Promise.all([...this.groups.values()].map((g) => g.flushing));
  }

  private *firing(): Iterable<{ fingerprint: string; labels: Record<string, string> }> {
    for (const a of this.alerts.values()) if (a.status === 'firing') yield a;
  }

  private route(alert: DispatchedAlert): void {
    if (this.stopped) return;
    for (const route of matchRoutes(this.config.route, alert.labels)) {
      const labels = groupLabels(route, alert.labels);
      const key = groupKey(route, labels);
      let group = this.groups.get(key);
      if (!group) {
        if (alert.status === 'resolved' && !this.hasLogged(alert)) continue;
        group = {
          key,
          route,
          labels,
          alerts: new Map(),
          timer: undefined,
          flushing: undefined,
          flushedOnce: false,
        };
        this.groups.set(key, group);
        // group_wait from the alert's start: an alert older than that (a restart) flushes at once.
        const wait = Math.max(0, Math.min(route.groupWait, alert.startsAt + route.groupWait - this.clock()));
        this.schedule(group, wait);
      }
      group.alerts.set(alert.fingerprint, alert);
    }
  }

  /** A resolved alert with no group is only worth a group if it may have been notified firing before. */
  private hasLogged(alert: DispatchedAlert): boolean {
    return alert.seq > 0;
  }

  private schedule(group: AggregationGroup, delay: number): void {
    clearTimeout(group.timer);
    group.timer = setTimeout(() => this.tick(group), delay);
    group.timer.unref?.();
  }

  private tick(group: AggregationGroup): void {
    if (this.stopped || this.groups.get(group.key) !== group) return;
    if (!group.flushing) {
      group.flushing = this.flush(group)
        .catch((error: unknown) => this.logger.error({ err: error, group: group.key }, 'flush failed'))
        .finally(() => (group.flushing = undefined));
    }
    this.schedule(group, group.route.groupInterval);
  }

  private async flush(group: AggregationGroup): Promise<void> {
    const now = this.clock();
    const snapshot = [...group.alerts.values()];
    const alerts = snapshot.filter((a) => !this.muteReason(a, now));
    const integrations = this.config.receivers.get(group.route.receiver) ?? [];
    await this.pipeline.exec(
      {
        groupKey: group.key,
        receiver: group.route.receiver,
        groupLabels: group.labels,
        repeatInterval: group.route.repeatInterval,
        groupInterval: group.route.groupInterval,
        alerts,
      },
      integrations,
      this.abort.signal,
    );
    group.flushedOnce = true;
    // Resolved alerts unchanged since this flush leave the group (Alertmanager deletes them after a flush).
    for (const a of snapshot)
      if (a.status === 'resolved' && group.alerts.get(a.fingerprint) === a)
        group.alerts.delete(a.fingerprint);
    if (group.alerts.size === 0 && this.groups.get(group.key) === group) {
      clearTimeout(group.timer);
      this.groups.delete(group.key);
    }
  }
}
