import type {
  AnomalyQueryRow,
  DetectionFilter,
  DetectionsQueryRepository,
  ForecastQueryRow,
} from '@sentio/clickhouse';
import { describe, expect, it, vi } from 'vitest';
import { as, specConfig } from '../common/spec-fakes.util.js';
import { DetectionsService } from './detections.service.js';

const T0 = Date.UTC(2026, 10, 26, 12);
const anomaly: AnomalyQueryRow = {
  ts_ms: String(T0),
  device_id: 'pump-1',
  asset_id: 'line',
  window_start_ms: String(T0 - 30_000),
  window_end_ms: String(T0),
  score: 0.9,
  threshold: 0.5,
  contribution_metrics: ['pressure', 'flow'],
  contribution_errors: [0.4],
  model_id: 'ae',
  model_version: 'v2',
  event_id: 'a1',
};
const forecast: ForecastQueryRow = {
  ts_ms: String(T0),
  device_id: 'pump-1',
  metric: 'temp',
  point_ts_ms: [String(T0 + 60_000)],
  point_values: [70],
  point_lowers: [],
  point_uppers: [75],
  interval_level: 0.9,
  limit_lower: null,
  limit_upper: 80,
  time_to_failure_ms: '3600000',
  risk_name: 'HIGH',
  confidence: 0.7,
  mase: null,
  model_id: 'holt',
  model_version: '1',
  event_id: 'f1',
};

function setup() {
  const mocks = {
    detections: {
      anomalies: vi.fn(async (_: DetectionFilter) => [anomaly]),
      topDevices: vi.fn(async (_: DetectionFilter) => [
        { device_id: 'pump-1', max_score: 0.9, anomalies: '3', last_ts_ms: String(T0), model_version: 'v2' },
      ]),
      forecasts: vi.fn(async (_: DetectionFilter) => [forecast]),
    },
  };
  const sut = new DetectionsService(specConfig(), as<DetectionsQueryRepository>(mocks.detections));
  return { sut, mocks };
}

describe('DetectionsService', () => {
  it('maps anomalies with their per-metric contributions (a missing error reads 0)', async () => {
    const { sut, mocks } = setup();
    const [a] = await sut.anomalies({ device: 'pump-1', from: String(T0 - 1000), to: String(T0 + 1000) });
    expect(mocks.detections.anomalies.mock.lastCall![0]).toMatchObject({
      device: 'pump-1',
      fromMs: T0 - 1000,
      toMs: T0 + 1000,
      limit: 100,
    });
    expect(a).toMatchObject({
      ts: new Date(T0).toISOString(),
      windowStart: new Date(T0 - 30_000).toISOString(),
      contributions: [
        { metric: 'pressure', error: 0.4 },
        { metric: 'flow', error: 0 },
      ],
      modelVersion: 'v2',
    });
  });

  it('ranks devices over the last day by default, and maps forecasts with their band and time to failure', async () => {
    const { sut, mocks } = setup();
    expect(await sut.topDevices({})).toEqual([
      {
        deviceId: 'pump-1',
        maxScore: 0.9,
        anomalies: 3,
        lastAnomaly: new Date(T0).toISOString(),
        modelVersion: 'v2',
      },
    ]);
    const filter = mocks.detections.topDevices.mock.lastCall![0]!;
    expect(filter.toMs - filter.fromMs).toBe(24 * 3_600_000);
    const [f] = await sut.forecasts({ device: 'pump-1', metric: 'temp' });
    expect(f).toMatchObject({
      points: [{ ts: new Date(T0 + 60_000).toISOString(), value: 70, lower: 70, upper: 75 }],
      timeToFailureMs: 3_600_000,
      risk: 'HIGH',
      limitLower: null,
    });
  });
});
