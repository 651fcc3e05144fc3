import {
  BadRequestException,
  Inject,
  Injectable,
  NotFoundException,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { AlertsQueryRepository, ClickHouseStore, type AlertTransitionRow } from '@sentio/clickhouse';
import type {
  AlertEvent,
  AlertLevel,
  AlertOrigin,
  AlertSeverity,
  AlertState,
  AlertStatus,
} from '@sentio/events';
import { AlertingViewService } from './alerting-view.service.js';

const STATUSES: readonly AlertStatus[] = [
  'INACTIVE',
  'PENDING',
  'FIRING',
  'RESOLVED',
  'NODATA',
  'ERROR',
  'ACKNOWLEDGED',
];
const LEVELS: readonly AlertLevel[] = ['INFO', 'WARNING', 'MINOR', 'MAJOR', 'CRITICAL'];
const PAGE_MAX = 1000;
const HISTORY_MAX = 10_000;

/** The history list's filters as the API takes them (REST query parameters, GraphQL arguments). */
export interface AlertHistoryQuery {
  /** Comma-separated statuses (FIRING,RESOLVED...). */
  state?: string;
  /** Comma-separated severities (critical,major...). */
  severity?: string;
  device?: string;
  rule?: string;
  /** ISO time or epoch milliseconds; `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
  limit?: string | number;
  /** The `next` of the previous page. */
  cursor?: string;
}

export interface AlertHistoryPage {
  alerts: AlertEvent[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next: string | null;
}

function list<T extends string>(
  field: string,
  raw: string | undefined,
  allowed: readonly T[],
): T[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const values = raw.split(',').map((v) => v.trim().toUpperCase());
  const bad = values.filter((v) => !allowed.includes(v as T));
  if (bad.length)
    throw new BadRequestException(`${field}: unknown ${bad.join(', ')} (one of ${allowed.join(', ')})`);
  return values as T[];
}

function time(field: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms)) throw new BadRequestException(`${field}: expected an ISO time or epoch milliseconds`);
  return ms;
}

function limitOf(raw: string | number | undefined, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new BadRequestException(`limit: expected an integer from 1 to ${max}`);
  return n;
}

function cursorOf(raw: string | undefined): { tsMs: number; eventId: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { t?: unknown; e?: unknown };
    if (typeof c.t === 'number' && typeof c.e === 'string') return { tsMs: c.t, eventId: c.e };
  } catch {
    // reported below
  }
  throw new BadRequestException('cursor: not a cursor this API returned');
}

const cursorFor = (e: AlertEvent) =>
  Buffer.from(JSON.stringify({ t: e.timestampMs, e: e.eventId }), 'utf8').toString('base64url');

/** A stored transition back in the shape of the event it was projected from (the API's alert shape). */
export function alertEventOf(r: AlertTransitionRow): AlertEvent {
  return {
    eventId: r.event_id,
    alertId: r.alert_id,
    timestampMs: Number(r.ts_ms),
    state: r.state as AlertState,
    severity: r.severity as AlertSeverity,
    origin: r.origin as AlertOrigin,
    ruleId: r.rule_id,
    deviceId: r.device_id || null,
    title: r.title,
    description: r.description,
    labels: r.labels,
    status: r.status as AlertStatus,
    previousStatus: (r.previous_status || null) as AlertStatus | null,
    level: r.level as AlertLevel,
    severityReason: r.severity_reason,
    sequence: Number(r.sequence),
    value: r.value,
    flapping: r.flapping,
    ruleName: r.rule_name,
    annotations: r.annotations,
    actor: r.actor || null,
    assignee: r.assignee || null,
    comment: r.comment || null,
  };
}

/**
 * An alert's transitions in the order they happened: by the evaluator's sequence number (transitions are
 * stamped in event time, which may run ahead of or behind the wall clock), an acknowledgement (stamped by the
 * API's wall clock, carrying the sequence of the transition it acknowledged) after that transition.
 */
const inOrder = (a: AlertEvent, b: AlertEvent) =>
  a.sequence - b.sequence ||
  Number(a.status === 'ACKNOWLEDGED') - Number(b.status === 'ACKNOWLEDGED') ||
  a.timestampMs - b.timestampMs;

/**
 * Alert history from the `alerts` table (every transition ever emitted, as ingest projected it from the alerts
 * topic), not from this process's view, which keeps only each alert's recent transitions. The current state of
 * open alerts stays with the view: it follows the topic within milliseconds and applies an acknowledgement at
 * once, while a row reaches the table only when ingest flushes its batch.
 */
@Injectable()
export class AlertHistoryService {
  private readonly repository: AlertsQueryRepository | undefined;

  constructor(
    @Inject(AlertingViewService) private readonly view: AlertingViewService,
    @Optional() @Inject(ClickHouseStore) store?: ClickHouseStore,
  ) {
    this.repository = store ? new AlertsQueryRepository(store) : undefined;
  }

  /** Transitions matching the filters, newest first, a page at a time. */
  async list(query: AlertHistoryQuery): Promise<AlertHistoryPage> {
    const limit = limitOf(query.limit, 100, PAGE_MAX);
    const filter = {
      statuses: list('state', query.state, STATUSES),
      levels: list('severity', query.severity, LEVELS),
      device: query.device || undefined,
      rule: query.rule || undefined,
      fromMs: time('from', query.from),
      toMs: time('to', query.to),
      before: cursorOf(query.cursor),
      limit: limit + 1, // one more tells whether a next page exists
    };
    if (!this.repository) throw new ServiceUnavailableException('alert history needs ClickHouse');
    const rows = await this.repository.transitions(filter);
    const alerts = rows.slice(0, limit).map(alertEventOf);
    return { alerts, next: rows.length > limit ? cursorFor(alerts.at(-1)!) : null };
  }

  /**
   * One alert's transitions, oldest first (the newest `limit`): the table's, plus those this process has seen
   * on the topic that ingest has not flushed yet (so an acknowledgement shows at once).
   */
  async history(alertId: string, rawLimit?: string | number): Promise<AlertEvent[]> {
    const limit = limitOf(rawLimit, HISTORY_MAX, HISTORY_MAX);
    await this.view.ready();
    const stored = this.repository ? (await this.repository.history(alertId, limit)).map(alertEventOf) : [];
    const known = new Set(stored.map((e) => e.eventId));
    const oldest = stored.length === limit ? stored[0]!.timestampMs : -Infinity;
    const fresh = (this.view.history.get(alertId) ?? []).filter(
      (e) => !known.has(e.eventId) && e.timestampMs >= oldest,
    );
    const all = [...stored, ...fresh].sort(inOrder).slice(-limit);
    if (!all.length) throw new NotFoundException(`no alert ${alertId}`);
    return all;
  }
}
