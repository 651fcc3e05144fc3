import type { ClickHouseStore } from '../clickhouse-store.js';

/** Event-time range [fromMs, toMs) of the inputs, optionally only some devices (a rule's selector). */
export interface AlertInputRange {
  fromMs: number;
  toMs: number;
  devices?: readonly string[] | undefined;
}

export interface AlertSampleRow {
  ts_ms: string;
  device_id: string;
  metric: string;
  value: number | null;
  quality: 'GOOD' | 'UNCERTAIN' | 'BAD';
  labels: Record<string, string>;
}

export interface AlertAnomalyRow {
  ts_ms: string;
  device_id: string;
  score: number;
  threshold: number;
  /** Metric with the largest reconstruction error ('' without contributions). */
  top_metric: string;
}

export interface AlertForecastRow {
  ts_ms: string;
  device_id: string;
  metric: string;
  risk: 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH';
  time_to_failure_ms: string | null;
}

export interface AlertLogRow {
  ts_ms: string;
  device_id: string;
  severity: string;
  body: string;
}

export interface AlertDeviceRow {
  device_id: string;
  device_type: string;
  labels: Record<string, string>;
  removed: boolean;
  updated_ms: string;
}

function where(
  range: AlertInputRange,
  extra: string[] = [],
): { sql: string; params: Record<string, unknown> } {
  const clauses = [
    'ts >= fromUnixTimestamp64Milli({fromMs:Int64})',
    'ts < fromUnixTimestamp64Milli({toMs:Int64})',
    ...extra,
  ];
  const params: Record<string, unknown> = { fromMs: range.fromMs, toMs: range.toMs };
  if (range.devices) {
    clauses.push('device_id IN {devices:Array(String)}');
    params['devices'] = [...range.devices];
  }
  return { sql: clauses.join(' AND '), params };
}

/**
 * The alert evaluator's inputs as the projections hold them, in event-time order: what a backtest reads for
 * the part of its range that Kafka no longer retains. One query per stream, values bound as parameters.
 */
export class AlertInputsQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  samples(range: AlertInputRange & { metrics?: readonly string[] | undefined }): Promise<AlertSampleRow[]> {
    const w = where(range, range.metrics ? ['metric IN {metrics:Array(String)}'] : []);
    if (range.metrics) w.params['metrics'] = [...range.metrics];
    return this.store.query<AlertSampleRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, device_id, metric, value, toString(quality) AS quality, labels
       FROM ${this.store.table('metrics')}
       WHERE ${w.sql}
       ORDER BY ts, device_id, metric`,
      w.params,
    );
  }

  anomalies(range: AlertInputRange): Promise<AlertAnomalyRow[]> {
    const w = where(range);
    // FINAL: a redelivered anomaly lands twice in this ReplacingMergeTree until a merge.
    return this.store.query<AlertAnomalyRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, device_id, score, threshold,
              if(empty(contributions), '', tupleElement(arraySort(c -> -tupleElement(c, 2), contributions)[1], 1)) AS top_metric
       FROM ${this.store.table('anomalies')} FINAL
       WHERE ${w.sql}
       ORDER BY ts, device_id`,
      w.params,
    );
  }

  forecasts(range: AlertInputRange): Promise<AlertForecastRow[]> {
    const w = where(range);
    return this.store.query<AlertForecastRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, device_id, metric, toString(risk) AS risk, time_to_failure_ms
       FROM ${this.store.table('forecasts')}
       WHERE ${w.sql}
       ORDER BY ts, device_id`,
      w.params,
    );
  }

  logs(range: AlertInputRange): Promise<AlertLogRow[]> {
    const w = where(range);
    return this.store.query<AlertLogRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, device_id, toString(severity) AS severity, body
       FROM ${this.store.table('logs')}
       WHERE ${w.sql}
       ORDER BY ts, device_id`,
      w.params,
    );
  }

  /** The inventory (type and labels per device), for selectors by type, site or labels. */
  devices(): Promise<AlertDeviceRow[]> {
    return this.store.query<AlertDeviceRow>(
      `SELECT device_id, device_type, labels, removed, toUnixTimestamp64Milli(updated_at) AS updated_ms
       FROM ${this.store.table('devices')} FINAL`,
    );
  }
}
