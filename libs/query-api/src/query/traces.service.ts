import { Inject, Injectable } from '@nestjs/common';
import { pageSize } from '../common/cursor.util.js';
import { toLabels } from '../common/label.dto.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { TracesQueryRepository, type SpanQueryRow } from '@sentio/clickhouse';
import { DAY_MS, HOUR_MS, resolveRange } from '../common/time-range.util.js';
import type { SpanDto, SpansQueryDto, TraceQueryDto } from './traces.dto.js';

@Injectable()
export class TracesService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(TracesQueryRepository) private readonly traces: TracesQueryRepository,
  ) {}

  async trace(query: TraceQueryDto): Promise<SpanDto[]> {
    return (await this.traces.trace(query.traceId, this.config.limits.maxRows)).map(toSpan);
  }

  async search(query: SpansQueryDto): Promise<SpanDto[]> {
    const { maxRangeDays, maxRows } = this.config.limits;
    const range = resolveRange(query.from, query.to, maxRangeDays * DAY_MS, HOUR_MS);
    const rows = await this.traces.search({
      ...range,
      service: query.service,
      name: query.name,
      minDurationUs: query.minDurationMs === undefined ? undefined : query.minDurationMs * 1000,
      status: query.status,
      limit: pageSize(query.limit, maxRows),
    });
    return rows.map(toSpan);
  }
}

function toSpan(r: SpanQueryRow): SpanDto {
  const startUs = Number(r.start_us);
  return {
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    name: r.name,
    serviceName: r.service_name,
    deviceId: r.device_id,
    kind: r.kind_name,
    startTime: new Date(Math.floor(startUs / 1000)).toISOString(),
    startTimeUs: startUs,
    durationUs: Number(r.duration_us),
    status: r.status_name,
    statusMessage: r.status_message,
    attributes: toLabels(r.attributes),
    events: r.event_names.map((name, i) => ({
      timeUs: Number(r.event_times_us[i]),
      name,
      attributes: toLabels(r.event_attributes[i] ?? {}),
    })),
  };
}
