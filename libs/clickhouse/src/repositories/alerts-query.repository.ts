import type { ClickHouseStore } from '../clickhouse-store.js';

/** Which transitions of the `alerts` table to read; every field but `limit` is optional. */
export interface AlertTransitionFilter {
  fromMs?: number;
  toMs?: number;
  /** v2 statuses (FIRING, RESOLVED, PENDING, ACKNOWLEDGED...); a row written before v2 counts with its state. */
  statuses?: readonly string[];
  /** Five-level severities (CRITICAL, MAJOR...); a row written before v2 counts with its three-level one. */
  levels?: readonly string[];
  device?: string;
  rule?: string;
  alertId?: string;
  /** Keyset pagination: only rows strictly older than this one (the last row of the previous page). */
  before?: { tsMs: number; eventId: string };
  limit: number;
}

/** One transition as stored; 64-bit integers arrive as strings (JSONEachRow quotes them). */
export interface AlertTransitionRow {
  ts_ms: string;
  alert_id: string;
  state: string;
  severity: string;
  origin: string;
  rule_id: string;
  device_id: string;
  title: string;
  description: string;
  labels: Record<string, string>;
  event_id: string;
  status: string;
  previous_status: string;
  level: string;
  severity_reason: string;
  sequence: string;
  value: number | null;
  flapping: boolean;
  rule_name: string;
  annotations: Record<string, string>;
  actor: string;
  assignee: string;
  comment: string;
}

// Rows written before v2 (migration 015) have empty status and level: they read as their v1 state and severity,
// so one filter matches old and new rows alike.
const STATUS = `if(status = '', toString(state), status)`;
const LEVEL = `if(level = '', toString(severity), level)`;

const COLUMNS = `toUnixTimestamp64Milli(ts) AS ts_ms, alert_id, toString(state) AS state,
  toString(severity) AS severity, toString(origin) AS origin, rule_id, device_id, title, description, labels,
  event_id, ${STATUS} AS status, previous_status, ${LEVEL} AS level, severity_reason, sequence, value,
  flapping, rule_name, annotations, actor, assignee, comment`;

/**
 * The alert state history: every transition the evaluator emitted, as ingest projected it from
 * `sentio.alerts.events.v1`. The table is a plain MergeTree, so a record projected twice (a replay, a sink
 * retry past the deduplication window) is two rows: reads keep one row per event id.
 */
export class AlertsQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Transitions matching the filter, newest first (then by event id, the keyset's tie-break). */
  transitions(filter: AlertTransitionFilter): Promise<AlertTransitionRow[]> {
    const conditions: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.fromMs !== undefined) {
      conditions.push('ts >= fromUnixTimestamp64Milli({fromMs:Int64})');
      params['fromMs'] = filter.fromMs;
    }
    if (filter.toMs !== undefined) {
      conditions.push('ts < fromUnixTimestamp64Milli({toMs:Int64})');
      params['toMs'] = filter.toMs;
    }
    if (filter.statuses?.length) {
      conditions.push(`${STATUS} IN {statuses:Array(String)}`);
      params['statuses'] = filter.statuses;
    }
    if (filter.levels?.length) {
      conditions.push(`${LEVEL} IN {levels:Array(String)}`);
      params['levels'] = filter.levels;
    }
    if (filter.device !== undefined) {
      conditions.push('device_id = {device:String}');
      params['device'] = filter.device;
    }
    if (filter.rule !== undefined) {
      conditions.push('rule_id = {rule:String}');
      params['rule'] = filter.rule;
    }
    if (filter.alertId !== undefined) {
      conditions.push('alert_id = {alertId:String}');
      params['alertId'] = filter.alertId;
    }
    if (filter.before) {
      conditions.push('(ts, event_id) < (fromUnixTimestamp64Milli({beforeMs:Int64}), {beforeId:String})');
      params['beforeMs'] = filter.before.tsMs;
      params['beforeId'] = filter.before.eventId;
    }
    return this.store.query<AlertTransitionRow>(
      `SELECT ${COLUMNS}
       FROM ${this.store.table('alerts')}
       ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY ts DESC, event_id DESC
       LIMIT 1 BY event_id
       LIMIT {limit:UInt32}`,
      params,
    );
  }

  /**
   * One alert's transitions in the order they happened (the newest `limit` when there are more): the table is
   * ordered by (alert_id, ts), so this reads one alert's rows only.
   */
  async history(alertId: string, limit: number): Promise<AlertTransitionRow[]> {
    const rows = await this.transitions({ alertId, limit });
    return rows.reverse();
  }
}
