import { Inject, Injectable } from '@nestjs/common';
import { pageSize } from '../common/cursor.util.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { DetectionsQueryRepository, type DetectionFilter, type ForecastQueryRow } from '@sentio/clickhouse';
import type {
  AnomaliesQueryDto,
  AnomalyDto,
  DetectionRangeDto,
  DeviceAnomalyScoreDto,
  ForecastDto,
  ForecastsAtRiskQueryDto,
  ForecastsQueryDto,
} from './detections.dto.js';
import { DAY_MS, resolveRange } from '../common/time-range.util.js';

const iso = (ms: string | number) => new Date(Number(ms)).toISOString();

@Injectable()
export class DetectionsService {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(DetectionsQueryRepository) private readonly detections: DetectionsQueryRepository,
  ) {}

  async anomalies(query: AnomaliesQueryDto): Promise<AnomalyDto[]> {
    const rows = await this.detections.anomalies({ ...this.filter(query), device: query.device });
    return rows.map((r) => ({
      ts: iso(r.ts_ms),
      deviceId: r.device_id,
      assetId: r.asset_id,
      windowStart: iso(r.window_start_ms),
      windowEnd: iso(r.window_end_ms),
      score: r.score,
      threshold: r.threshold,
      contributions: r.contribution_metrics.map((metric, i) => ({
        metric,
        error: r.contribution_errors[i] ?? 0,
      })),
      modelId: r.model_id,
      modelVersion: r.model_version,
      eventId: r.event_id,
    }));
  }

  async topDevices(query: DetectionRangeDto): Promise<DeviceAnomalyScoreDto[]> {
    return (await this.detections.topDevices(this.filter(query))).map((r) => ({
      deviceId: r.device_id,
      maxScore: r.max_score,
      anomalies: Number(r.anomalies),
      lastAnomaly: iso(r.last_ts_ms),
      modelVersion: r.model_version,
    }));
  }

  async forecasts(query: ForecastsQueryDto): Promise<ForecastDto[]> {
    const rows = await this.detections.forecasts({
      ...this.filter(query),
      device: query.device,
      metric: query.metric,
    });
    return rows.map(toForecast);
  }

  /** The newest forecast per device and metric at or above a risk, soonest time to failure first. */
  async atRisk(query: ForecastsAtRiskQueryDto): Promise<ForecastDto[]> {
    const rows = await this.detections.atRisk({ ...this.filter(query), minRisk: query.minRisk ?? 'LOW' });
    return rows.map(toForecast);
  }

  private filter(query: DetectionRangeDto): DetectionFilter {
    const { maxRangeDays, maxRows } = this.config.limits;
    return {
      ...resolveRange(query.from, query.to, maxRangeDays * DAY_MS, DAY_MS),
      limit: pageSize(query.limit, maxRows),
    };
  }
}

function toForecast(r: ForecastQueryRow): ForecastDto {
  return {
    ts: iso(r.ts_ms),
    deviceId: r.device_id,
    metric: r.metric,
    points: r.point_values.map((value, i) => ({
      ts: iso(r.point_ts_ms[i] ?? 0),
      value,
      lower: r.point_lowers[i] ?? value,
      upper: r.point_uppers[i] ?? value,
    })),
    intervalLevel: r.interval_level,
    limitLower: r.limit_lower,
    limitUpper: r.limit_upper,
    timeToFailureMs: r.time_to_failure_ms === null ? null : Number(r.time_to_failure_ms),
    risk: r.risk_name,
    confidence: r.confidence,
    mase: r.mase,
    modelId: r.model_id,
    modelVersion: r.model_version,
    eventId: r.event_id,
  };
}
