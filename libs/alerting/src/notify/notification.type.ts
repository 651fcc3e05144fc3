import type { Labels } from '../dispatch/label-matcher.util.js';

/** An alert as the dispatcher holds it, built from the alert events (Alertmanager's types.Alert). */
export interface DispatchedAlert {
  fingerprint: string;
  /** Sequence of the newest transition applied: notifications are keyed by content, so restarts re-key alike. */
  seq: number;
  status: 'firing' | 'resolved';
  /** The engine's precise status (firing, nodata, error, resolved...). */
  detailStatus: string;
  labels: Labels;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number | null;
  updatedAt: number;
  flapping: boolean;
  title: string;
  description: string;
  acknowledged?: { by: string; assignee: string | null; comment: string | null; at: number } | undefined;
}

/** One flush of one aggregation group to one receiver's integration (rides the pipeline like AM's ctx). */
export interface NotificationContext {
  groupKey: string;
  receiver: string;
  integration: string;
  groupLabels: Labels;
  repeatInterval: number;
  /** Deterministic from the content (and repeat count): the same notification after a restart has the same key. */
  idempotencyKey: string;
  /** Retries stop at this time (the group interval), so a dead receiver never holds the group's next flush. */
  deadline: number;
  signal: AbortSignal;
}

export interface NotifyResult {
  ok: boolean;
  /** Worth retrying (5xx, timeouts, connection refused); a 4xx is not. */
  recoverable: boolean;
  error?: string | undefined;
  status?: number | undefined;
}

/** Alertmanager's notify.Notifier: one integration of a receiver. */
export interface Notifier {
  readonly type: string;
  notify(ctx: NotificationContext, alerts: DispatchedAlert[]): Promise<NotifyResult>;
}

/** Alertmanager's webhook payload, version 4: existing receivers work unchanged. */
export interface WebhookPayloadV4 {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: Array<{
    status: 'firing' | 'resolved';
    labels: Labels;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function webhookPayload(
  ctx: NotificationContext,
  alerts: DispatchedAlert[],
  externalURL: string,
): WebhookPayloadV4 {
  const common = <T extends Record<string, string>>(pick: (a: DispatchedAlert) => T): T => {
    const [first, ...rest] = alerts;
    if (!first) return {} as T;
    const out: Record<string, string> = { ...pick(first) };
    for (const a of rest) for (const k of Object.keys(out)) if (pick(a)[k] !== out[k]) delete out[k];
    return out as T;
  };
  return {
    version: '4',
    groupKey: ctx.groupKey,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: ctx.receiver,
    groupLabels: ctx.groupLabels,
    commonLabels: common((a) => a.labels),
    commonAnnotations: common((a) => a.annotations),
    externalURL,
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.endsAt !== null ? new Date(a.endsAt).toISOString() : ZERO_TIME,
      generatorURL: `${externalURL}/alerts?rule=${encodeURIComponent(a.labels['rule_id'] ?? '')}`,
      fingerprint: a.fingerprint,
    })),
  };
}
