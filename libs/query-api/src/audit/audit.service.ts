import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth/roles.decorator.js';
import { pageSize } from '../common/cursor.util.js';
import { DAY_MS, resolveRange } from '../query/time-range.util.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import type { AuditEventDto, AuditQueryDto } from './audit.dto.js';

@Injectable()
export class AuditService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(AuditRepository) private readonly audit: AuditRepository,
  ) {}

  /** Written before the caller answers, so an action the client saw succeed is always on record. */
  record(
    actor: AuthenticatedUser | 'system',
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
