import { Inject, Injectable } from '@nestjs/common';
import { pageSize } from '../common/cursor.util.js';
import { DAY_MS, resolveRange } from '../common/time-range.util.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { ApiAuditRepository, type ActorKind } from '@sentio/clickhouse';
import type { AuditEventDto, AuditQueryDto } from './audit.dto.js';

/** Who did it: a user or API key (an AuthenticatedUser fits), a would-be user of a failed login, or the system. */
export type AuditActor = { username: string; kind: Exclude<ActorKind, 'system'> } | 'system';

/** Audit actions of logins, from which the login lockout is rebuilt after a restart. */
export const LOGIN_ACTIONS = { succeeded: 'auth.login', failed: 'auth.login-failed' } as const;

export interface LoginAttempt {
  username: string;
  ip: string;
  ok: boolean;
  atMs: number;
}

/** Most login events a restart replays; beyond it the oldest are dropped (a spray's lockouts then end early). */
const MAX_REPLAYED_LOGINS = 100_000;

@Injectable()
export class AuditService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(ApiAuditRepository) private readonly audit: ApiAuditRepository,
  ) {}

  /** Written before the caller answers, so an action the client saw succeed is always on record. */
  record(
    actor: AuditActor,
    action: string,
    target: string,
    detail: Record<string, unknown>,
    ip: string,
  ): Promise<void> {
    return this.audit.append({
      tsMs: Date.now(),
      actor: actor === 'system' ? 'system' : actor.username,
      actorKind: actor === 'system' ? 'system' : actor.kind,
      action,
      target,
      detail: JSON.stringify(detail),
      ip,
    });
  }

  /** Successful and failed logins from a time on, oldest first. */
  async loginsSince(fromMs: number): Promise<LoginAttempt[]> {
    const events = await this.audit.since(
      [LOGIN_ACTIONS.succeeded, LOGIN_ACTIONS.failed],
      fromMs,
      MAX_REPLAYED_LOGINS,
    );
    return events.map((e) => ({
      username: e.target,
      ip: e.ip,
      ok: e.action === LOGIN_ACTIONS.succeeded,
      atMs: e.tsMs,
    }));
  }

  async list(query: AuditQueryDto): Promise<AuditEventDto[]> {
    const { maxRangeDays, maxRows } = this.config.limits;
    const range = resolveRange(query.from, query.to, maxRangeDays * DAY_MS, 30 * DAY_MS);
    const limit = pageSize(query.limit, maxRows);
    return (await this.audit.list(range.fromMs, range.toMs, limit)).map((e) => ({
      ts: new Date(e.tsMs).toISOString(),
      actor: e.actor,
      actorKind: e.actorKind,
      action: e.action,
      target: e.target,
      detail: e.detail,
      ip: e.ip,
    }));
  }
}
