import type { Anomaly, Forecast } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { DetectionsQueryRepository, type DetectionFilter } from './detections-query.repository.js';
import { AnomaliesRepository, ForecastsRepository } from './detections.repository.js';
import { openSpecStore } from './spec-store.util.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const MINUTE = 60_000;

function anomaly(i: number, deviceId: string, score: number): Anomaly {
  return {
    eventId: `an-${i}`,
    deviceId,
    assetId: 'line-1',
    timestampMs: T0 + i * MINUTE,
    windowStartMs: T0 + i * MINUTE - 30_000,
    windowEndMs: T0 + i * MINUTE,
    score,
    threshold: 0.5,
    contributions: [
      { metric: 'pressure', error: score / 2 },
      { metric: 'flow', error: score / 4 },
    ],
    modelId: 'window-ae',
    modelVersion: `v${i}`,
  };
}

function forecast(i: number, metric: string, ttf: number | null): Forecast {
  return {
    eventId: `fc-${i}`,
    deviceId: 'pump-1',
    metric,
    timestampMs: T0 + i * MINUTE,
    points: [1, 2].map((k) => ({ timestampMs: T0 + (i + k) * MINUTE, value: k, lower: k - 1, upper: k + 1 })),
    intervalLevel: 0.9,
    limitLower: null,
    limitUpper: 10,
    timeToFailureMs: ttf,
    risk: ttf === null ? 'NONE' : 'HIGH',
    confidence: 0.8,
    mase: null,
    modelId: 'holt',
    modelVersion: '2.1',
  };
}

describe('DetectionsQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;
  let sut: DetectionsQueryRepository;
  const hour: DetectionFilter = { fromMs: T0, toMs: T0 + 60 * MINUTE, limit: 100 };

  beforeAll(async () => {
    store = await openSpecStore('detections-query-spec');
    const anomalies = new AnomaliesRepository(store);
    const detected = [anomaly(0, 'pump-1', 0.4), anomaly(1, 'pump-2', 0.9), anomaly(2, 'pump-1', 0.7)];
    await anomalies.insert(detected, 'first');
    // A replay writes the same detection again under another token: a duplicate row until a merge.
    await anomalies.insert([detected[2]!], 'replayed');
    await new ForecastsRepository(store).insert(
      [forecast(0, 'temperature', 3_600_000), forecast(1, 'pressure', null)],
      'forecasts',
    );
    sut = new DetectionsQueryRepository(store);
  });

  afterAll(async () => {
    await store.close();
  });

  it('lists anomalies newest first, each once even when written twice, with contributions', async () => {
    const rows = await sut.anomalies(hour);
    expect(rows.map((r) => r.event_id)).toEqual(['an-2', 'an-1', 'an-0']);
    expect(rows[0]).toMatchObject({
      device_id: 'pump-1',
      asset_id: 'line-1',
      score: 0.7,
      threshold: 0.5,
      contribution_metrics: ['pressure', 'flow'],
      contribution_errors: [0.35, 0.175],
      model_version: 'v2',
    });
    expect(Number(rows[0]!.window_start_ms)).toBe(T0 + 2 * MINUTE - 30_000);
    expect((await sut.anomalies({ ...hour, device: 'pump-2' })).map((r) => r.event_id)).toEqual(['an-1']);
    expect((await sut.anomalies({ ...hour, fromMs: T0 + MINUTE, toMs: T0 + 2 * MINUTE })).length).toBe(1);
  });

  it('ranks devices by their highest score, counting each anomaly once', async () => {
    const rows = await sut.topDevices(hour);
    expect(rows.map((r) => [r.device_id, r.max_score, Number(r.anomalies), r.model_version])).toEqual([
      ['pump-2', 0.9, 1, 'v1'],
      ['pump-1', 0.7, 2, 'v2'],
    ]);
    expect(Number(rows[1]!.last_ts_ms)).toBe(T0 + 2 * MINUTE);
    expect(await sut.topDevices({ ...hour, limit: 1 })).toHaveLength(1);
  });

  it('lists forecasts with their points, limits and time to failure, by device and metric', async () => {
    const rows = await sut.forecasts({ ...hour, device: 'pump-1' });
    expect(
      rows.map((r) => [r.metric, r.risk_name, r.time_to_failure_ms && Number(r.time_to_failure_ms)]),
    ).toEqual([
      ['pressure', 'NONE', null],
      ['temperature', 'HIGH', 3_600_000],
    ]);
    const [temperature] = await sut.forecasts({ ...hour, metric: 'temperature' });
    expect(temperature).toMatchObject({
      point_values: [1, 2],
      point_lowers: [0, 1],
      point_uppers: [2, 3],
      interval_level: expect.closeTo(0.9, 6),
      limit_lower: null,
      limit_upper: 10,
      mase: null,
    });
    expect(temperature!.point_ts_ms.map(Number)).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
    expect(await sut.forecasts({ ...hour, device: 'pump-2' })).toEqual([]);
  });

  it('ranks the newest forecast per device and metric by time to failure, at or above a risk', async () => {
    const forecasts = new ForecastsRepository(store);
    const at = (i: number, deviceId: string, metric: string, ttf: number | null, risk: Forecast['risk']) => ({
      ...forecast(i, metric, ttf),
      eventId: `risk-${i}`,
      deviceId,
      risk,
    });
    await forecasts.insert(
      [
        // pump-9 temperature was HIGH, its newest forecast is NONE: no longer at risk.
        at(10, 'pump-9', 'temperature', 60_000, 'HIGH'),
        at(11, 'pump-9', 'temperature', null, 'NONE'),
        at(12, 'pump-8', 'pressure', 7_200_000, 'MEDIUM'),
        at(13, 'pump-7', 'flow', 600_000, 'LOW'),
        at(14, 'pump-6', 'flow', null, 'HIGH'),
      ],
      'risks',
    );
    const ranked = async (minRisk: 'LOW' | 'MEDIUM' | 'HIGH', limit = 100) =>
      (await sut.atRisk({ ...hour, minRisk, limit })).map((r) => [r.device_id, r.metric, r.risk_name]);
    expect(await ranked('LOW')).toEqual([
      ['pump-7', 'flow', 'LOW'],
      ['pump-1', 'temperature', 'HIGH'],
      ['pump-8', 'pressure', 'MEDIUM'],
      ['pump-6', 'flow', 'HIGH'],
    ]);
    expect(await ranked('MEDIUM')).toEqual([
      ['pump-1', 'temperature', 'HIGH'],
      ['pump-8', 'pressure', 'MEDIUM'],
      ['pump-6', 'flow', 'HIGH'],
    ]);
    expect(await ranked('HIGH', 1)).toEqual([['pump-1', 'temperature', 'HIGH']]);
  });
});
