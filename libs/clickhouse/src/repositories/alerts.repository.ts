import type { AlertEvent } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';
import type { Projection } from './projection.type.js';

const alertEventColumns = columnMap<AlertEvent>({
  ts: (a) => a.timestampMs,
  alert_id: (a) => a.alertId,
  state: (a) => a.state,
  severity: (a) => a.severity,
  origin: (a) => a.origin,
  rule_id: (a) => a.ruleId,
  device_id: (a) => a.deviceId ?? '',
  title: (a) => a.title,
  description: (a) => a.description,
  labels: (a) => a.labels,
  event_id: (a) => a.eventId,
  // v2 (migration 015). Events written before v2 decode with these null: status and level stay empty, and
  // readers fall back to state and severity, as for rows inserted before the migration.
  status: (a) => a.status ?? '',
  previous_status: (a) => a.previousStatus ?? '',
  level: (a) => a.level ?? '',
  severity_reason: (a) => a.severityReason,
  sequence: (a) => a.sequence,
  value: (a) => a.value,
  flapping: (a) => a.flapping,
  rule_name: (a) => a.ruleName,
  annotations: (a) => a.annotations,
  actor: (a) => a.actor ?? '',
  assignee: (a) => a.assignee ?? '',
  comment: (a) => a.comment ?? '',
});

export class AlertsRepository implements Projection<AlertEvent> {
  readonly table = 'alerts';

  constructor(private readonly store: ClickHouseStore) {}

  insert(alerts: readonly AlertEvent[], token: string): Promise<void> {
    return this.store.insert(this.table, alertEventColumns, alerts, token);
  }
}
