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
});

export class AlertsRepository implements Projection<AlertEvent> {
  readonly table = 'alerts';

  constructor(private readonly store: ClickHouseStore) {}

  insert(alerts: readonly AlertEvent[], token: string): Promise<void> {
    return this.store.insert(this.table, alertEventColumns, alerts, token);
  }
}
