import { Inject, Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor, pageSize } from '../common/cursor.util.js';
import { toLabels } from '../common/label.dto.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { LogsQueryRepository } from '@sentio/clickhouse';
import type { LogHistogramDto, LogHistogramQueryDto, LogPageDto, LogsQueryDto } from './logs.dto.js';
import { bucketing, DAY_MS, HOUR_MS, resolveRange } from '../common/time-range.util.js';
import { rangeKey, ReadCache } from './read-cache.service.js';

interface LogCursor {
  t: number;
  e: string;
}

function isLogCursor(v: unknown): v is LogCursor {
  const c = v as Partial<LogCursor> | null;
  return typeof c?.t === 'number' && Number.isSafeInteger(c.t) && c.t >= 0 && typeof c.e === 'string';
}

@Injectable()
export class LogsService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(LogsQueryRepository) private readonly logs: LogsQueryRepository,
    @Inject(ReadCache) private readonly reads: ReadCache,
  ) {}

  async search(query: LogsQueryDto, caller?: AuthenticatedUser): Promise<LogPageDto> {
    const { maxRangeDays, maxRows } = this.config.limits;
    const range = resolveRange(query.from, query.to, maxRangeDays * DAY_MS, HOUR_MS);
    const limit = pageSize(query.limit, maxRows);
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isLogCursor);
    const question = {
      ...rangeKey(range, this.config.cache.ttlMs),
      device: query.device,
      level: query.level,
      contains: query.contains,
      cursor,
      limit,
    };
    return this.reads.read(caller, ['logs', question], () => this.page(query, range, limit, cursor));
  }

  private async page(
    query: LogsQueryDto,
    range: { fromMs: number; toMs: number },
    limit: number,
    cursor: LogCursor | undefined,
  ): Promise<LogPageDto> {
    const rows = await this.logs.search({
      ...range,
      device: query.device,
      level: query.level,
      contains: query.contains === '' ? undefined : query.contains,
      before: cursor && { tsMs: cursor.t, eventId: cursor.e },
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => ({
        ts: new Date(Number(r.ts_ms)).toISOString(),
        deviceId: r.device_id,
        severity: r.severity_name,
        body: r.body,
        attributes: toLabels(r.attributes),
        traceId: r.trace_id,
        spanId: r.span_id,
        source: r.source,
        eventId: r.event_id,
      })),
      nextCursor:
        rows.length > limit && last ? encodeCursor({ t: Number(last.ts_ms), e: last.event_id }) : undefined,
    };
  }

  /** How many records match per time bucket: the logs explorer's histogram, which zooms the range. */
  async histogram(query: LogHistogramQueryDto, caller?: AuthenticatedUser): Promise<LogHistogramDto> {
    const { maxRangeDays, maxRows } = this.config.limits;
    const requested = resolveRange(query.from, query.to, maxRangeDays * DAY_MS, HOUR_MS);
    const { range, stepMs } = bucketing(requested, query.step, maxRows);
    const question = { ...range, stepMs, device: query.device, level: query.level, contains: query.contains };
    return this.reads.read(caller, ['logHistogram', question], () => this.buckets(query, range, stepMs));
  }

  private async buckets(
    query: LogHistogramQueryDto,
    range: { fromMs: number; toMs: number },
    stepMs: number,
  ): Promise<LogHistogramDto> {
    const rows = await this.logs.histogram({
      ...range,
      stepMs,
      device: query.device,
      level: query.level,
      contains: query.contains === '' ? undefined : query.contains,
    });
    return {
      stepMs,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      buckets: rows.map((r) => ({ ts: new Date(Number(r.bucket_ms)).toISOString(), count: Number(r.count) })),
    };
  }
}
