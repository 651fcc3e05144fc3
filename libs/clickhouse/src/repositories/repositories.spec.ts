import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AlertEvent,
  Anomaly,
  DeviceLifecycle,
  DeviceLogRecord,
  Forecast,
  Span,
  TelemetrySample,
} from '@sentio/events';
import { createLogger } from '@sentio/observability';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../clickhouse-store.js';
import { migrate } from '../migrations.js';
import { AlertsRepository } from './alerts.repository.js';
import { AnomaliesRepository, ForecastsRepository } from './detections.repository.js';
import { DevicesRepository } from './devices.repository.js';
import { LogsRepository } from './logs.repository.js';
import { MetricsRepository } from './metrics.repository.js';
import { SinkBatchesRepository } from './sink-batches.repository.js';
import { SpansRepository } from './spans.repository.js';

// Every projection against the real embedded engine: the columns each repository writes must be the ones
// the migrations created, with the types they expect.
describe('repositories on embedded ClickHouse', () => {
  const logger = createLogger('test', 'warn');
  let store: ClickHouseStore;
  const t = Date.UTC(2026, 10, 26, 12, 0, 0);

  beforeAll(async () => {
    store = ClickHouseStore.open(
      {
        path: mkdtempSync(join(tmpdir(), 'sentio-repo-')),
        database: 'repo_spec',
        username: 'default',
        password: '',
      },
      logger,
    );
    await migrate(store, logger);
  });

  afterAll(async () => {
    await store.close();
  });

  it('applies the migrations once', async () => {
    expect(await migrate(store, logger)).toBe(0);
  });

  it('metrics: stores samples, including BAD ones without a value, and feeds the rollups good values only', async () => {
    const sample: TelemetrySample = {
      eventId: 'e1',
      deviceId: 'd1',
      timestampMs: t,
      metric: 'temp',
      value: 21.5,
      unit: 'degC',
      quality: 'GOOD',
      labels: { site: 's' },
      source: 'test',
    };
    const repo = new MetricsRepository(store);
    await repo.insert([sample, { ...sample, eventId: 'e2', value: null, quality: 'BAD', unit: null }], 'm1');
    await repo.insert([sample], 'm1'); // the same token again: dropped
    expect(await repo.count()).toBe(2);
    expect(await repo.rollupCounts()).toEqual({ raw: 1, minute: 1, hour: 1 });
  });

  it('devices: the newest lifecycle event wins, with its metric descriptors', async () => {
    const base: DeviceLifecycle = {
      eventId: 'l1',
      deviceId: 'd1',
      timestampMs: t,
      kind: 'DISCOVERED',
      deviceType: 'pump',
      vendor: 'v',
      model: 'm',
      connector: 'sim',
      online: true,
      labels: {},
      metrics: [
        { name: 'temp', unit: 'degC' },
        { name: 'flow', unit: null },
      ],
    };
    const repo = new DevicesRepository(store);
    await repo.insert(
      [base, { ...base, eventId: 'l2', timestampMs: t + 1000, kind: 'OFFLINE', online: false }],
      'd1',
    );
    const [device] = await repo.list();
    expect(device).toMatchObject({
      device_id: 'd1',
      last_event: 'OFFLINE',
      online: false,
      removed: false,
      device_type: 'pump',
    });
  });

  it('logs, spans, anomalies, forecasts and alerts insert and read back', async () => {
    const log: DeviceLogRecord = {
      eventId: 'g1',
      deviceId: 'd1',
      timestampMs: t,
      severity: 'WARN',
      body: 'Pressure HIGH',
      attributes: { a: 'b' },
      traceId: null,
      spanId: null,
      source: 'test',
    };
    await new LogsRepository(store).insert([log], 'g1');
    const span: Span = {
      eventId: 's1',
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      parentSpanId: null,
      name: 'poll',
      serviceName: 'gw',
      deviceId: 'd1',
      kind: 'CLIENT',
      startTimeUs: t * 1000 + 123,
      durationUs: 1500,
      statusCode: 'OK',
      statusMessage: null,
      attributes: {},
      events: [{ timeUs: t * 1000 + 500, name: 'retry', attributes: { n: '1' } }],
      source: 'otlp',
    };
    await new SpansRepository(store).insert([span], 's1');
    const anomaly: Anomaly = {
      eventId: 'a1',
      deviceId: 'd1',
      assetId: 'pump',
      timestampMs: t,
      windowStartMs: t - 60_000,
      windowEndMs: t,
      score: 3.2,
      threshold: 1.1,
      contributions: [{ metric: 'temp', error: 2.5 }],
      modelId: 'ae',
      modelVersion: '1',
    };
    await new AnomaliesRepository(store).insert([anomaly], 'a1');
    const forecast: Forecast = {
      eventId: 'f1',
      deviceId: 'd1',
      metric: 'temp',
      timestampMs: t,
      points: [{ timestampMs: t + 60_000, value: 22, lower: 21, upper: 23 }],
      intervalLevel: 0.9,
      limitLower: null,
      limitUpper: 80,
      timeToFailureMs: 3_600_000,
      risk: 'MEDIUM',
      confidence: 0.7,
      mase: 0.8,
      modelId: 'holt',
      modelVersion: '1',
    };
    await new ForecastsRepository(store).insert([forecast], 'f1');
    const alert: AlertEvent = {
      eventId: 'x1',
      alertId: 'al1',
      timestampMs: t,
      state: 'FIRING',
      severity: 'CRITICAL',
      origin: 'ANOMALY',
      ruleId: 'ae',
      deviceId: 'd1',
      title: 'Anomaly',
      description: '',
      labels: {},
      status: 'NODATA',
      previousStatus: 'PENDING',
      level: 'MAJOR',
      severityReason: 'base minor; raised: critical asset',
      sequence: 3,
      value: 41.5,
      flapping: true,
      ruleName: 'pump temperature',
      annotations: { summary: 'no data for 5m' },
      actor: 'ops@sentio',
      assignee: 'oncall@sentio',
      comment: 'looking',
    };
    await new AlertsRepository(store).insert([alert], 'x1');

    const [spanRow] = await store.query<{ start: string; event_time: string }>(
      `SELECT toString(start_time) AS start, toString(events[1].time) AS event_time FROM ${store.table('spans')}`,
    );
    expect(spanRow).toEqual({
      start: '2026-11-26 12:00:00.000123',
      event_time: '2026-11-26 12:00:00.000500',
    });
    const [counts] = await store.query<Record<string, string | number>>(
      `SELECT (SELECT count() FROM ${store.table('logs')} WHERE lower(body) LIKE '%high%') AS logs,
              (SELECT contributions[1].metric FROM ${store.table('anomalies')}) AS contribution,
              (SELECT points[1].upper FROM ${store.table('forecasts')}) AS upper,
              (SELECT toString(severity) FROM ${store.table('alerts')}) AS severity`,
    );
    expect(counts).toEqual({ logs: 1, contribution: 'temp', upper: 23, severity: 'CRITICAL' });
    // v2 alert events land with their precise state, five-level severity and acknowledgement (migration 015).
    const [alertRow] = await store.query<Record<string, unknown>>(
      `SELECT status, previous_status, level, severity_reason, sequence, value, flapping, rule_name,
              annotations, actor, assignee, comment
       FROM ${store.table('alerts')}`,
    );
    expect(alertRow).toEqual({
      status: 'NODATA',
      previous_status: 'PENDING',
      level: 'MAJOR',
      severity_reason: 'base minor; raised: critical asset',
      sequence: 3,
      value: 41.5,
      flapping: true,
      rule_name: 'pump temperature',
      annotations: { summary: 'no data for 5m' },
      actor: 'ops@sentio',
      assignee: 'oncall@sentio',
      comment: 'looking',
    });
  });

  it('alerts: an event written before v2 (its v2 fields at their schema defaults) leaves them empty', async () => {
    const v1: AlertEvent = {
      eventId: 'v1-1',
      alertId: 'al-v1',
      timestampMs: t,
      state: 'RESOLVED',
      severity: 'WARNING',
      origin: 'RULE',
      ruleId: 'r1',
      deviceId: null,
      title: 'Resolved',
      description: '',
      labels: { site: 'a' },
      status: null,
      previousStatus: null,
      level: null,
      severityReason: '',
      sequence: 0,
      value: null,
      flapping: false,
      ruleName: '',
      annotations: {},
      actor: null,
      assignee: null,
      comment: null,
    };
    await new AlertsRepository(store).insert([v1], 'v1-1');
    const rows = await store.query<Record<string, unknown>>(
      `SELECT toString(state) AS state, status, previous_status, level, value, actor, comment
       FROM ${store.table('alerts')} WHERE alert_id = 'al-v1'`,
    );
    expect(rows).toEqual([
      { state: 'RESOLVED', status: '', previous_status: '', level: '', value: null, actor: '', comment: '' },
    ]);
  });

  it('sink batches: the newest written-ahead range per partition, with the rest of its cycle', async () => {
    const repo = new SinkBatchesRepository(store);
    await repo.record('g', [{ topic: 't', partition: 0, firstOffset: '0', lastOffset: '99', records: 100 }]);
    await repo.record('g', [
      { topic: 't', partition: 0, firstOffset: '100', lastOffset: '149', records: 50 },
    ]);
    const cycle = 'g:t:1:0-9,2:5-7';
    await repo.record('g', [
      { topic: 't', partition: 1, firstOffset: '0', lastOffset: '9', records: 10, cycle },
      { topic: 't', partition: 2, firstOffset: '5', lastOffset: '7', records: 3, cycle },
    ]);
    // Partition 2 moved on: its newer range is alone, and the older cycle's range there still comes back.
    await repo.record('g', [{ topic: 't', partition: 2, firstOffset: '8', lastOffset: '8', records: 1 }]);
    const latest = await repo.latest('g');
    const key = (b: { partition: number; firstOffset: string }) => b.partition * 1e6 + Number(b.firstOffset);
    expect(latest.sort((a, b) => key(a) - key(b))).toEqual([
      { topic: 't', partition: 0, firstOffset: '100', lastOffset: '149', records: 50, cycle: '' },
      { topic: 't', partition: 1, firstOffset: '0', lastOffset: '9', records: 10, cycle },
      { topic: 't', partition: 2, firstOffset: '5', lastOffset: '7', records: 3, cycle },
      { topic: 't', partition: 2, firstOffset: '8', lastOffset: '8', records: 1, cycle: '' },
    ]);
  });
});
