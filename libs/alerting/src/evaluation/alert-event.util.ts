import type { AlertEvent } from '@sentio/events';
import type { AlertTransition } from './alert-engine.js';

const ORIGIN: Record<string, AlertEvent['origin']> = { anomaly: 'ANOMALY', forecast: 'FORECAST' };

/** A transition as the alert-event (v2) record; v1 fields keep their coarse meaning for older readers. */
export function transitionEvent(t: AlertTransition): AlertEvent {
  const notifying = t.status === 'firing' || t.status === 'nodata' || t.status === 'error';
  return {
    eventId: t.eventId,
    alertId: t.alertId,
    timestampMs: t.ts,
    state: notifying ? 'FIRING' : 'RESOLVED',
    severity:
      t.severity === 'critical' || t.severity === 'major'
        ? 'CRITICAL'
        : t.severity === 'info'
          ? 'INFO'
          : 'WARNING',
    origin: ORIGIN[t.kind] ?? 'RULE',
    ruleId: t.ruleId,
    deviceId: t.deviceId,
    title: t.title,
    description: t.description,
    labels: t.labels,
    status: t.status.toUpperCase() as NonNullable<AlertEvent['status']>,
    previousStatus: t.previous.toUpperCase() as NonNullable<AlertEvent['status']>,
    level: t.severity.toUpperCase() as NonNullable<AlertEvent['level']>,
    severityReason: t.severityReason,
    sequence: t.seq,
    value: t.value,
    flapping: t.flapping,
    ruleName: t.ruleName,
    annotations: t.annotations,
    actor: null,
    assignee: null,
    comment: null,
  };
}
