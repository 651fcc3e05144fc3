import type { ClickHouseStore } from '../clickhouse-store.js';

export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type SeverityName = (typeof SEVERITIES)[number];
/** The Enum8 values of `logs.severity` (OpenTelemetry severity numbers). */
const SEVERITY_NUMBER: Record<SeverityName, number> = {
  TRACE: 1,
  DEBUG: 5,
  INFO: 9,
  WARN: 13,
  ERROR: 17,
  FATAL: 21,
};

export interface LogFilter {
  fromMs: number;
  toMs: number;
  device?: string;
  /** Minimum severity. */
  level?: SeverityName;
  /** Case-insensitive substring of the body. */
  contains?: string;
  /** Resume strictly after (older than) this row of the previous page. */
  before?: { tsMs: number; eventId: string };
  limit: number;
}

/** The filters of a search, counted per time bucket instead of listed. */
export interface LogCountFilter extends Omit<LogFilter, 'before' | 'limit'> {
  stepMs: number;
}

export interface LogQueryRow {
  ts_ms: string;
  device_id: string;
  /** Not `severity`: a SELECT alias shadows the column in WHERE. */
  severity_name: SeverityName;
  body: string;
  attributes: Record<string, string>;
  trace_id: string;
  span_id: string;
  source: string;
  event_id: string;
}

/** LIKE treats %, _ and \ specially; a search for them means the characters themselves. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The filters of a search or a count, as conditions and bound parameters. */
function conditions(filter: Omit<LogFilter, 'before' | 'limit'>): {
  where: string[];
  params: Record<string, unknown>;
} {
  const where = [
    'ts >= fromUnixTimestamp64Milli({fromMs:Int64})',
    'ts < fromUnixTimestamp64Milli({toMs:Int64})',
  ];
  const params: Record<string, unknown> = { fromMs: filter.fromMs, toMs: filter.toMs };
  if (filter.device !== undefined) {
    where.push('device_id = {device:String}');
    params['device'] = filter.device;
  }
  if (filter.level !== undefined) {
    where.push("CAST(severity, 'Int8') >= {level:Int8}");
    params['level'] = SEVERITY_NUMBER[filter.level];
  }
  if (filter.contains !== undefined) {
    // Same expression as the trigram index, so the index can skip granules.
    where.push('lower(body) LIKE lower({contains:String})');
    params['contains'] = likeContains(filter.contains);
  }
  return { where, params };
}

export class LogsQueryRepository {
  constructor(private readonly store: ClickHouseStore) {}

  /** Newest first; ties on the timestamp are broken by event id so pages neither skip nor repeat rows. */
  search(filter: LogFilter): Promise<LogQueryRow[]> {
    const { where, params } = conditions(filter);
    if (filter.before !== undefined) {
      where.push('(ts, event_id) < (fromUnixTimestamp64Milli({beforeMs:Int64}), {beforeId:String})');
      params['beforeMs'] = filter.before.tsMs;
      params['beforeId'] = filter.before.eventId;
    }
    params['limit'] = filter.limit;
    return this.store.query<LogQueryRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, device_id, toString(severity) AS severity_name, body, attributes,
              trace_id, span_id, source, event_id
       FROM ${this.store.table('logs')}
       WHERE ${where.join(' AND ')}
       ORDER BY ts DESC, event_id DESC
       LIMIT {limit:UInt32}`,
      params,
    );
  }

  /** Records per bucket of `stepMs` (epoch-aligned, non-empty buckets only, oldest first), same filters. */
  histogram(filter: LogCountFilter): Promise<Array<{ bucket_ms: string; count: string }>> {
    const { where, params } = conditions(filter);
    params['stepMs'] = filter.stepMs;
    return this.store.query(
      `SELECT intDiv(toUnixTimestamp64Milli(ts), {stepMs:UInt64}) * {stepMs:UInt64} AS bucket_ms, count() AS count
       FROM ${this.store.table('logs')}
       WHERE ${where.join(' AND ')}
       GROUP BY bucket_ms ORDER BY bucket_ms`,
      params,
    );
  }
}
