import { randomUUID } from 'node:crypto';
import type { ClickHouseStore } from '../clickhouse-store.js';

export type ActorKind = 'user' | 'api-key' | 'system';

export interface AuditEvent {
  tsMs: number;
  actor: string;
  actorKind: ActorKind;
  /** What was done, e.g. `user.create`, `api-key.revoke`. */
  action: string;
  target: string;
  /** JSON of the change's parameters, secrets never included. */
  detail: string;
  ip: string;
}

interface AuditRow {
  ts_ms: string;
  actor: string;
  actor_kind: ActorKind;
  action: string;
  target: string;
  detail: string;
  ip: string;
}

const auditColumns = {
  names: ['ts', 'actor', 'actor_kind', 'action', 'target', 'detail', 'ip', 'event_id'],
  row: (e: AuditEvent & { eventId: string }) => [
    e.tsMs,
    e.actor,
    e.actorKind,
    e.action,
    e.target,
    e.detail,
    e.ip,
    e.eventId,
  ],
};

/** The append-only audit trail of administrative actions (table from migration 002). */
export class ApiAuditRepository {
  readonly table = 'api_audit';

  constructor(private readonly store: ClickHouseStore) {}

  async append(event: AuditEvent): Promise<void> {
    const eventId = randomUUID();
    await this.store.insert(this.table, auditColumns, [{ ...event, eventId }], `api-audit-${eventId}`);
  }

  /**
   * Events of the given actions from a time on, oldest first, at most `limit`: what a restarted process
   * rebuilds short-lived state from (the login lockout).
   */
  async since(actions: readonly string[], fromMs: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.store.query<AuditRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, actor, toString(actor_kind) AS actor_kind, action, target,
              detail, ip
       FROM ${this.store.table(this.table)}
       WHERE ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND action IN {actions:Array(String)}
       ORDER BY ts, event_id
       LIMIT {limit:UInt32}`,
      { fromMs, actions, limit },
    );
    return rows.map(toEvent);
  }

  /** Newest first, within a time range. */
  async list(fromMs: number, toMs: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.store.query<AuditRow>(
      `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, actor, toString(actor_kind) AS actor_kind, action, target,
              detail, ip
       FROM ${this.store.table(this.table)}
       WHERE ts >= fromUnixTimestamp64Milli({fromMs:Int64}) AND ts < fromUnixTimestamp64Milli({toMs:Int64})
       ORDER BY ts DESC, event_id DESC
       LIMIT {limit:UInt32}`,
      { fromMs, toMs, limit },
    );
    return rows.map(toEvent);
  }
}

function toEvent(r: AuditRow): AuditEvent {
  return {
    tsMs: Number(r.ts_ms),
    actor: r.actor,
    actorKind: r.actor_kind,
    action: r.action,
    target: r.target,
    detail: r.detail,
    ip: r.ip,
  };
}
