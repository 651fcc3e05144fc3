import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { MetricsQueryRepository, type LatestRow, type SeriesQuery } from '@sentio/clickhouse';
import type { LatestQueryDto, LatestValueDto, SeriesDto, SeriesQueryDto } from './metrics.dto.js';
import { bucketing, chooseResolution, DAY_MS, HOUR_MS, resolveRange } from '../common/time-range.util.js';
import { ReadCache } from './read-cache.service.js';

@Injectable()
export class MetricsService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(MetricsQueryRepository) private readonly metrics: MetricsQueryRepository,
    @Inject(ReadCache) private readonly reads: ReadCache,
  ) {}

  async series(query: SeriesQueryDto, caller?: AuthenticatedUser): Promise<SeriesDto> {
    const { maxRangeDays, maxRows } = this.config.limits;
    const requested = resolveRange(query.from, query.to, maxRangeDays * DAY_MS, HOUR_MS);
    const { range, stepMs } = bucketing(requested, query.step, maxRows);
    const agg = query.agg ?? 'avg';
    const resolution = chooseResolution(stepMs, this.metrics.hasResolution('5m'));
    const question = { device: query.device, metric: query.metric, ...range, stepMs, agg, resolution };
    // The range is already aligned to whole steps: consoles asking "the last two hours" share it per step.
    return this.reads.read(caller, ['series', question], async () => this.toSeries(question));
  }

  private async toSeries(q: SeriesQuery): Promise<SeriesDto> {
    const { stepMs, agg, resolution } = q;
    const range = { fromMs: q.fromMs, toMs: q.toMs };
    const rows = await this.metrics.series(q);
    return {
      device: q.device,
      metric: q.metric,
      agg,
      resolution,
      stepMs,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      points: rows.map((r) => ({ ts: new Date(Number(r.bucket_ms)).toISOString(), value: r.value })),
    };
  }

  latest(query: LatestQueryDto, caller?: AuthenticatedUser): Promise<LatestValueDto[]> {
    return this.reads.read(caller, ['latest', query.device], async () =>
      (await this.metrics.latest([query.device])).map(toLatestValue),
    );
  }

  /** The latest values of several devices at once, by device id. */
  async latestOf(devices: readonly string[]): Promise<Map<string, LatestValueDto[]>> {
    const byDevice = new Map<string, LatestValueDto[]>();
    for (const row of await this.metrics.latest(devices)) {
      const values = byDevice.get(row.device_id) ?? [];
      values.push(toLatestValue(row));
      byDevice.set(row.device_id, values);
    }
    return byDevice;
  }
}

function toLatestValue(r: LatestRow): LatestValueDto {
  return {
    metric: r.metric,
    value: r.value,
    unit: r.unit,
    quality: r.quality,
    ts: new Date(Number(r.ts_ms)).toISOString(),
  };
}
