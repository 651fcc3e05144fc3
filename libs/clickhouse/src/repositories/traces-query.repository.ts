import type { ClickHouseStore } from '../clickhouse-store.js';

export const SPAN_STATUSES = ['UNSET', 'OK', 'ERROR'] as const;
export type SpanStatus = (typeof SPAN_STATUSES)[number];

export interface SpanFilter {
  fromMs: number;
  toMs: number;
  service?: string;
  name?: string;
  minDurationUs?: number;
  status?: SpanStatus;
  limit: number;
}

export interface SpanQueryRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  name: string;
  service_name: string;
  device_id: string;
  kind_name: string;
  start_us: string;
  duration_us: string;
  status_name: SpanStatus;
  status_message: string;
  attributes: Record<string, string>;
  event_times_us: string[];
  event_names: string[];
  event_attributes: Array<Record<string, string>>;
}

/** Aliases differ from the columns: a SELECT alias would shadow its column in WHERE. */
const COLUMNS = `trace_id, span_id, parent_span_id, name, service_name, device_id, toString(kind) AS kind_name,
  toUnixTimestamp64Micro(start_time) AS start_us, duration_us, toString(status_code) AS status_name,
  status_message, attributes,
  arrayMap(e -> toString(toUnixTimestamp64Micro(tupleElement(e, 1))), events) AS event_times_us,
  arrayMap(e -> tupleElement(e, 2), events) AS event_names,
  arrayMap(e -> tupleElement(e, 3), events) AS event_attributes`;

export class TracesQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Every span of one trace in start order, for a waterfall; the bloom filter on trace_id skips granules. */
  trace(traceId: string, limit: number): Promise<SpanQueryRow[]> {
    return this.store.query<SpanQueryRow>(
      `SELECT ${COLUMNS} FROM ${this.store.table('spans')}
       WHERE trace_id = {traceId:String}
       ORDER BY start_time, span_id
       LIMIT {limit:UInt32}`,
      { traceId, limit },
    );
  }

  /** Spans matching the filter, newest first. */
  search(filter: SpanFilter): Promise<SpanQueryRow[]> {
    const where = [
      'start_time >= fromUnixTimestamp64Milli({fromMs:Int64})',
      'start_time < fromUnixTimestamp64Milli({toMs:Int64})',
    ];
    const params: Record<string, unknown> = { fromMs: filter.fromMs, toMs: filter.toMs, limit: filter.limit };
    if (filter.service !== undefined) {
      where.push('service_name = {service:String}');
      params['service'] = filter.service;
    }
    if (filter.name !== undefined) {
      where.push('name = {name:String}');
      params['name'] = filter.name;
    }
    if (filter.minDurationUs !== undefined) {
      where.push('duration_us >= {minDurationUs:UInt64}');
      params['minDurationUs'] = filter.minDurationUs;
    }
    if (filter.status !== undefined) {
      where.push('toString(status_code) = {status:String}');
      params['status'] = filter.status;
    }
    return this.store.query<SpanQueryRow>(
      `SELECT ${COLUMNS} FROM ${this.store.table('spans')}
       WHERE ${where.join(' AND ')}
       ORDER BY start_time DESC, span_id DESC
       LIMIT {limit:UInt32}`,
      params,
    );
  }
}
