import { Inject, Injectable } from '@nestjs/common';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { MetricsQueryRepository, type LatestRow } from '@sentio/clickhouse';
import type { LatestQueryDto, LatestValueDto, SeriesDto, SeriesQueryDto } from './metrics.dto.js';
import { bucketing, chooseResolution, DAY_MS, HOUR_MS, resolveRange } from '../common/time-range.util.js';

@Injectable()
export class MetricsService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(MetricsQueryRepository) private readonly metrics: MetricsQueryRepository,
  ) {}

  async series(query: SeriesQueryDto): Promise<SeriesDto> {
    const { maxRangeDays, maxRows } = this.config.limits;
    const requested = resolveRange(query.from, query.to, maxRangeDays * DAY_MS, HOUR_MS);
    const { range, stepMs } = bucketing(requested, query.step, maxRows);
    const agg = query.agg ?? 'avg';
    const resolution = chooseResolution(stepMs, this.metrics.hasResolution('5m'));
    const rows = await this.metrics.series({
      device: query.device,
      metric: query.metric,
      ...range,
      stepMs,
      agg,
      resolution,
    });
    return {
      device: query.device,
      metric: query.metric,
      agg,
      resolution,
      stepMs,
      from: new Date(range.fromMs).toISOString(),
      to: new Date(range.toMs).toISOString(),
      points: rows.map((r) => ({ ts: new Date(Number(r.bucket_ms)).toISOString(), value: r.value })),
    };
  }

  async latest(query: LatestQueryDto): Promise<LatestValueDto[]> {
    return (await this.metrics.latest([query.device])).map(toLatestValue);
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
