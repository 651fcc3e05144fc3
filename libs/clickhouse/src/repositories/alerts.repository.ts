import type { AlertEvent } from '@sentio/events';
import type { ClickHouseStore } from '../clickhouse-store.js';
import type { Projection } from './projection.type.js';

export class AlertsRepository implements Projection<AlertEvent> {
  readonly table = 'alerts';

  constructor(private readonly store: ClickHouseStore) {}

  insert(alerts: readonly AlertEvent[], token: string): Promise<void> {
    return this.store.insert(
      this.table,
      alerts.map((a) => ({
        ts: a.timestampMs,
        alert_id: a.alertId,
        state: a.state,
        severity: a.severity,
        origin: a.origin,
        rule_id: a.ruleId,
        device_id: a.deviceId ?? '',
        title: a.title,
        description: a.description,
        labels: a.labels,
        event_id: a.eventId,
      })),
      token,
    );
  }
}
