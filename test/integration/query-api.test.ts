import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { avroConfigSection, AvroModule } from '@sentio/avro';
import {
  clickHouseConfigSection,
  ClickHouseModule,
  ClickHouseStore,
  AnomaliesRepository,
  DevicesRepository,
  ForecastsRepository,
  LogsRepository,
  MetricsRepository,
  SpansRepository,
} from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import type {
  Anomaly,
  DeviceLifecycle,
  DeviceLogRecord,
  Forecast,
  Severity,
  Span,
  TelemetrySample,
} from '@sentio/events';
import {
  deadLetterHeaders,
  EVENT_TOPICS,
  KAFKA,
  KafkaModule,
  kafkaConfigSection,
  type EventTopics,
} from '@sentio/kafka';
import type { Kafka } from 'kafkajs';
import { ObservabilityModule } from '@sentio/observability';
import { queryApiConfigSection, QueryApiModule } from '@sentio/query-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from './support/backbone.js';

const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR - 4) * HOUR;
const DEVICES = ['pump-0001', 'pump-0002', 'motor-0001'];
const METRICS = ['temperature', 'pressure'];
const ADMIN = { username: 'admin', password: 'admin-password-1234' };
const SEVERITIES: Severity[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Two hours of a sample every 10 s per device and metric; every 37th is BAD and every 53rd missing. */
function samples(): TelemetrySample[] {
  const out: TelemetrySample[] = [];
  for (const [d, deviceId] of DEVICES.entries()) {
    for (const [m, metric] of METRICS.entries()) {
      for (let i = 0; i < 720; i++) {
        out.push({
          eventId: `s-${d}-${m}-${i}`,
          deviceId,
          timestampMs: T0 + i * 10_000,
          metric,
          value: i % 53 === 0 ? null : 20 + d * 5 + m + Math.sin(i / 17) * 3 + (i % 7) / 10,
          unit: metric === 'temperature' ? 'degC' : 'bar',
          quality: i % 37 === 0 ? 'BAD' : 'GOOD',
          labels: {},
          source: 'test',
        });
      }
    }
  }
  return out;
}

function lifecycle(): DeviceLifecycle[] {
  const event = (
    deviceId: string,
    kind: DeviceLifecycle['kind'],
    online: boolean,
    at: number,
    type: string,
  ) => ({
    eventId: `l-${deviceId}-${at}`,
    deviceId,
    timestampMs: at,
    kind,
    deviceType: type,
    vendor: 'acme',
    model: 'x1',
    connector: type === 'motor' ? 'mqtt:plant-a' : 'simulator',
    online,
    labels: { site: 'test' },
    metrics: METRICS.map((name) => ({ name, unit: null })),
  });
  return [
    event('pump-0001', 'DISCOVERED', true, T0, 'pump'),
    event('pump-0002', 'DISCOVERED', true, T0, 'pump'),
    // A newer event wins: pump-0002 is offline now.
    event('pump-0002', 'OFFLINE', false, T0 + HOUR, 'pump'),
    event('motor-0001', 'DISCOVERED', true, T0, 'motor'),
    event('gone-0001', 'DISCOVERED', true, T0, 'pump'),
    event('gone-0001', 'REMOVED', false, T0 + HOUR, 'pump'),
  ];
}

function logRecords(): DeviceLogRecord[] {
  return Array.from({ length: 250 }, (_, i) => ({
    eventId: `log-${String(i).padStart(4, '0')}`,
    deviceId: DEVICES[i % DEVICES.length]!,
    // Pairs share a timestamp, so pages must break ties.
    timestampMs: T0 + Math.floor(i / 2) * 1000,
    severity: SEVERITIES[i % SEVERITIES.length]!,
    body: i % 5 === 0 ? `Bearing TEMP high 100%_ok #${i}` : `routine reading #${i}`,
    attributes: {},
    traceId: null,
    spanId: null,
    source: 'test',
  }));
}

/** Two traces of a gateway calling a device; t1's device call failed. */
function spans(): Span[] {
  const span = (
    traceId: string,
    spanId: string,
    parent: string | null,
    offsetMs: number,
    durationMs: number,
  ) => ({
    eventId: `span-${traceId}-${spanId}`,
    traceId,
    spanId,
    parentSpanId: parent,
    name: parent ? 'modbus.read' : 'poll',
    serviceName: parent ? 'connector' : 'gateway',
    deviceId: 'pump-0001',
    kind: (parent ? 'CLIENT' : 'SERVER') as Span['kind'],
    startTimeUs: (T0 + offsetMs) * 1000,
    durationUs: durationMs * 1000,
    statusCode: (traceId === 't1' && parent ? 'ERROR' : 'OK') as Span['statusCode'],
    statusMessage: traceId === 't1' && parent ? 'timeout' : null,
    attributes: { register: '40001' },
    events: parent
      ? [{ timeUs: (T0 + offsetMs + 1) * 1000, name: 'retry', attributes: { attempt: '1' } }]
      : [],
    source: 'test',
  });
  return [
    span('t1', 'a', null, 0, 120),
    span('t1', 'b', 'a', 10, 100),
    span('t2', 'c', null, 60_000, 30),
    span('t2', 'd', 'c', 60_005, 20),
  ];
}

function anomalies(): Anomaly[] {
  return [0.4, 0.9, 0.7, 0.2].map((score, i) => ({
    eventId: `an-${i}`,
    deviceId: i % 2 === 0 ? 'pump-0001' : 'pump-0002',
    assetId: 'line-1',
    timestampMs: T0 + i * 60_000,
    windowStartMs: T0 + i * 60_000 - 30_000,
    windowEndMs: T0 + i * 60_000,
    score,
    threshold: 0.5,
    contributions: [{ metric: 'pressure', error: score / 2 }],
    modelId: 'window-ae',
    modelVersion: `v${i}`,
  }));
}

function forecasts(): Forecast[] {
  return ['temperature', 'pressure'].map((metric, i) => ({
    eventId: `fc-${i}`,
    deviceId: 'pump-0001',
    metric,
    timestampMs: T0 + HOUR,
    points: [1, 2].map((k) => ({
      timestampMs: T0 + HOUR + k * 60_000,
      value: k,
      lower: k - 1,
      upper: k + 1,
    })),
    intervalLevel: 0.9,
    limitLower: null,
    limitUpper: 10,
    timeToFailureMs: i === 0 ? 3_600_000 : null,
    risk: i === 0 ? 'HIGH' : 'NONE',
    confidence: 0.8,
    mase: null,
    modelId: 'holt',
    modelVersion: '2.1',
  }));
}

@Module({})
class TestRootModule {}

describe('query API over the ClickHouse projections', () => {
  let app: INestApplication;
  let base: string;
  const produced = samples();
  const logs = logRecords();

  const call = async (path: string, token?: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') && text;
    return { status: res.status, body: json ? (JSON.parse(text) as Record<string, unknown>) : {}, text };
  };
  const post = (path: string, body: unknown, token?: string) =>
    call(path, token, { method: 'POST', body: JSON.stringify(body) });
  const login = async (username: string, password: string) => {
    const res = await post('/api/auth/login', { username, password });
    expect(res.status).toBe(200);
    return res.body as { accessToken: string; refreshToken: string };
  };
  const graphql = (query: string, token?: string) => post('/api/graphql', { query }, token);

  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    const id = `query_api_${randomBytes(3).toString('hex')}`;
    const clickhouse = loadConfig([clickHouseConfigSection], {
      env: {
        SENTIO_CLICKHOUSE_PATH: mkdtempSync(join(tmpdir(), 'sentio-query-api-')),
        CLICKHOUSE_DATABASE: id,
      },
    }).clickhouse;
    const queryApi = loadConfig([queryApiConfigSection], {
      env: {
        SENTIO_JWT_SECRET: randomBytes(32).toString('hex'),
        SENTIO_ADMIN_USER: ADMIN.username,
        SENTIO_ADMIN_PASSWORD: ADMIN.password,
        QUERY_API_LOGIN_MAX_ATTEMPTS: '3',
        QUERY_API_MAX_ROWS: '1000',
      },
    }).queryApi;
    const backbone = loadConfig([kafkaConfigSection, avroConfigSection], {
      env: { ...process.env, SENTIO_NAMESPACE: id.replace(/_/g, '-') },
    });
    app = await NestFactory.create(
      {
        module: TestRootModule,
        imports: [
          { module: ObservabilityModule },
          KafkaModule.forRoot(backbone.kafka, logger),
          AvroModule.forRoot(backbone.avro),
          ClickHouseModule.forRoot(clickhouse, logger),
          QueryApiModule.forRoot(queryApi, logger),
        ],
      },
      { logger: false, abortOnError: false },
    );
    await app.get(MetricsRepository).insert(produced, 'test-metrics');
    await app.get(DevicesRepository).insert(lifecycle(), 'test-devices');
    await app.get(LogsRepository).insert(logs, 'test-logs');
    await app.get(SpansRepository).insert(spans(), 'test-spans');
    await app.get(AnomaliesRepository).insert(anomalies(), 'test-anomalies');
    await app.get(ForecastsRepository).insert(forecasts(), 'test-forecasts');
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    base = base.replace('[::1]', '127.0.0.1');

    admin = (await login(ADMIN.username, ADMIN.password)).accessToken;
    for (const role of ['viewer', 'operator']) {
      const res = await post(
        '/api/users',
        { username: role, password: `${role}-password-1234`, role },
        admin,
      );
      expect(res.status).toBe(201);
    }
    viewer = (await login('viewer', 'viewer-password-1234')).accessToken;
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('access', () => {
    it('protects every route, except those deliberately public', async () => {
      const router = (app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } }).router;
      const routes = router.stack
        .filter((layer) => layer.route)
        .flatMap((layer) =>
          Object.keys(layer.route!.methods).map((method) => [method, layer.route!.path] as const),
        );
      expect(routes.length).toBeGreaterThan(8);
      const open: string[] = [];
      for (const [method, path] of routes) {
        const res = await call(path, undefined, {
          method: method.toUpperCase(),
          body: method === 'get' ? undefined : '{}',
        });
        if (res.status !== 401) open.push(`${method.toUpperCase()} ${path}`);
      }
      // Public on purpose: logging in and out, whether an admin exists, the OpenAPI document (introspection
      // is on outside production), and the probes of @sentio/observability. POST login answers 400 to an
      // empty body, logout 204 (nothing to revoke); refresh is public too but answers 401 without a token.
      expect(open.sort()).toEqual(
        [
          'GET /api/auth/status',
          'GET /api/docs-json',
          'GET /health',
          'GET /metrics',
          'POST /api/auth/login',
          'POST /api/auth/logout',
        ].sort(),
      );
    });

    it('protects every GraphQL query', async () => {
      const fields = Object.values(app.get(GraphQLSchemaHost).schema.getQueryType()!.getFields());
      expect(fields.map((f) => f.name).sort()).toEqual([
        'anomalies',
        'deadLetters',
        'devices',
        'forecasts',
        'forecastsAtRisk',
        'latest',
        'logHistogram',
        'logs',
        'metricSeries',
        'spans',
        'systemStatus',
        'topAnomalousDevices',
        'trace',
      ]);
      for (const field of fields) {
        const args = field.args.filter((a) => String(a.type).endsWith('!')).map((a) => `${a.name}: "x"`);
        const res = await graphql(
          `{ ${field.name}${args.length ? `(${args.join(', ')})` : ''} { __typename } }`,
        );
        const errors = res.body['errors'] as Array<{ extensions: { code: string } }>;
        expect(errors[0]?.extensions.code, field.name).toBe('UNAUTHENTICATED');
      }
    });

    it('lets each role do what it may', async () => {
      const operator = (await login('operator', 'operator-password-1234')).accessToken;
      expect((await call('/api/devices', viewer)).status).toBe(200);
      expect((await call('/api/devices', operator)).status).toBe(200);
      expect((await call('/api/users', viewer)).status).toBe(403);
      expect((await call('/api/users', operator)).status).toBe(403);
      expect(
        (await post('/api/users', { username: 'x-user', password: 'p'.repeat(12), role: 'admin' }, viewer))
          .status,
      ).toBe(403);
      const users = await call('/api/users', admin);
      expect(users.status).toBe(200);
      expect(JSON.stringify(users.body)).not.toContain('password');
      expect((await call('/api/devices', 'not-a-token')).status).toBe(401);
    });

    it('lets admins change roles and disable users, but never remove the last admin', async () => {
      const created = await post(
        '/api/users',
        { username: 'temp-user', password: 'temp-password-1234', role: 'viewer' },
        admin,
      );
      expect(created.status).toBe(201);
      const temp = (await login('temp-user', 'temp-password-1234')).accessToken;
      const patch = (username: string, body: unknown, token = admin) =>
        call(`/api/users/${username}`, token, { method: 'PATCH', body: JSON.stringify(body) });
      expect((await patch('temp-user', { role: 'operator' }, temp)).status).toBe(403);
      expect((await patch('temp-user', { role: 'root' })).status).toBe(400);
      expect((await call('/api/system/status', temp)).status).toBe(403);
      expect((await patch('temp-user', { role: 'operator' })).body).toEqual({
        username: 'temp-user',
        role: 'operator',
        disabled: false,
      });
      // The role applies to the very next request of the same session.
      expect((await call('/api/system/status', temp)).status).toBe(200);
      expect((await patch('temp-user', { disabled: true })).status).toBe(200);
      expect((await call('/api/devices', temp)).status).toBe(401);
      expect(
        (await post('/api/auth/login', { username: 'temp-user', password: 'temp-password-1234' })).status,
      ).toBe(401);
      const last = await patch('admin', { role: 'viewer' });
      expect(last.status).toBe(409);
      expect(last.text).toMatch(/last admin/);
      expect((await patch('nobody-here', { disabled: true })).status).toBe(404);
    });

    it('rotates refresh tokens once each, and treats reuse as theft', async () => {
      const first = await login('operator', 'operator-password-1234');
      const second = await post('/api/auth/refresh', { refreshToken: first.refreshToken });
      expect(second.status).toBe(200);
      const rotated = second.body as { accessToken: string; refreshToken: string };
      // The spent token again: refused, and every session of the user ends.
      expect((await post('/api/auth/refresh', { refreshToken: first.refreshToken })).status).toBe(401);
      expect((await post('/api/auth/refresh', { refreshToken: rotated.refreshToken })).status).toBe(401);
      expect((await call('/api/devices', rotated.accessToken)).status).toBe(401);
    });

    it('revokes on logout and on password change', async () => {
      const session = await login('viewer', 'viewer-password-1234');
      expect((await post('/api/auth/logout', { refreshToken: session.refreshToken })).status).toBe(204);
      expect((await post('/api/auth/refresh', { refreshToken: session.refreshToken })).status).toBe(401);

      const other = await login('viewer', 'viewer-password-1234');
      const changed = await post(
        '/api/auth/password',
        { currentPassword: 'viewer-password-1234', newPassword: 'viewer-password-5678' },
        other.accessToken,
      );
      expect(changed.status).toBe(204);
      expect((await call('/api/devices', other.accessToken)).status).toBe(401);
      expect((await post('/api/auth/refresh', { refreshToken: other.refreshToken })).status).toBe(401);
      viewer = (await login('viewer', 'viewer-password-5678')).accessToken;
    });

    it('locks a user out after repeated failed logins, even with the right password', async () => {
      const res = await post(
        '/api/users',
        { username: 'victim', password: 'victim-password-1234', role: 'viewer' },
        admin,
      );
      expect(res.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        expect((await post('/api/auth/login', { username: 'victim', password: 'wrong-guess' })).status).toBe(
          401,
        );
      }
      expect(
        (await post('/api/auth/login', { username: 'victim', password: 'victim-password-1234' })).status,
      ).toBe(429);
      // Other users are unaffected.
      expect((await post('/api/auth/login', ADMIN)).status).toBe(200);
    });

    it('serves the OpenAPI document of the query routes', async () => {
      const res = await call('/api/docs-json');
      expect(res.status).toBe(200);
      const paths = Object.keys(res.body['paths'] as object);
      expect(paths).toEqual(
        expect.arrayContaining([
          '/api/devices',
          '/api/metrics/series',
          '/api/metrics/latest',
          '/api/logs',
          '/api/auth/login',
        ]),
      );
      expect(paths).not.toContain('/health');
    });
  });

  describe('devices', () => {
    it('lists the current inventory with filters', async () => {
      const ids = async (query: string) =>
        ((await call(`/api/devices${query}`, viewer)).body['items'] as Array<{ deviceId: string }>).map(
          (d) => d.deviceId,
        );
      expect(await ids('')).toEqual(['motor-0001', 'pump-0001', 'pump-0002']);
      expect(await ids('?type=pump')).toEqual(['pump-0001', 'pump-0002']);
      expect(await ids('?online=false')).toEqual(['pump-0002']);
      expect(await ids('?connector=mqtt:plant-a&online=true')).toEqual(['motor-0001']);
      expect(await ids('?includeRemoved=true')).toEqual([
        'gone-0001',
        'motor-0001',
        'pump-0001',
        'pump-0002',
      ]);
      expect(await ids('?label=site%3Dtest&search=PUMP')).toEqual(['pump-0001', 'pump-0002']);
      expect(await ids('?label=site%3Delsewhere')).toEqual([]);
      expect((await call('/api/devices?label=site', viewer)).text).toMatch(/label: expected key=value/);
      const gql = await graphql(
        '{ devices(search: "0002", label: "site=test") { items { deviceId } } }',
        viewer,
      );
      expect(gql.body['data']).toEqual({ devices: { items: [{ deviceId: 'pump-0002' }] } });
    });

    it('pages through every device once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await call(`/api/devices?limit=1${cursor ? `&cursor=${cursor}` : ''}`, viewer);
        seen.push(...(res.body['items'] as Array<{ deviceId: string }>).map((d) => d.deviceId));
        cursor = res.body['nextCursor'] as string | undefined;
      } while (cursor);
      expect(seen).toEqual(['motor-0001', 'pump-0001', 'pump-0002']);
    });
  });

  describe('metrics', () => {
    const expected = (device: string, metric: string, stepMs: number) => {
      const buckets = new Map<number, number[]>();
      for (const s of produced) {
        if (s.deviceId !== device || s.metric !== metric || s.value === null || s.quality === 'BAD') continue;
        const bucket = Math.floor(s.timestampMs / stepMs) * stepMs;
        buckets.set(bucket, [...(buckets.get(bucket) ?? []), s.value]);
      }
      return buckets;
    };

    for (const [step, stepMs, resolution] of [
      ['30s', 30_000, 'raw'],
      ['5m', 300_000, '1m'],
      ['1h', HOUR, '1h'],
    ] as const) {
      it(`answers step ${step} from ${resolution}, equal to an independent aggregation`, async () => {
        const want = expected('pump-0002', 'pressure', stepMs);
        for (const agg of ['avg', 'min', 'max', 'sum', 'count', 'p50', 'p95', 'p99']) {
          const res = await call(
            `/api/metrics/series?device=pump-0002&metric=pressure&from=${T0}&to=${T0 + 2 * HOUR}&step=${step}&agg=${agg}`,
            viewer,
          );
          expect(res.status, res.text).toBe(200);
          expect(res.body['resolution']).toBe(resolution);
          const points = res.body['points'] as Array<{ ts: string; value: number }>;
          expect(points.map((p) => Date.parse(p.ts))).toEqual([...want.keys()].sort((a, b) => a - b));
          for (const point of points) {
            const values = want.get(Date.parse(point.ts))!;
            const sum = values.reduce((a, b) => a + b, 0);
            const exact: Record<string, number> = {
              avg: sum / values.length,
              min: Math.min(...values),
              max: Math.max(...values),
              sum,
              count: values.length,
            };
            if (agg in exact) expect(point.value).toBeCloseTo(exact[agg]!, 6);
            else {
              // Rollup quantiles are t-digest estimates kept in Float32.
              expect(point.value).toBeGreaterThanOrEqual(exact['min']! - 1e-4);
              expect(point.value).toBeLessThanOrEqual(exact['max']! + 1e-4);
            }
          }
        }
      });
    }

    it('takes the step in GraphQL as REST does: seconds as a number, or a duration text', async () => {
      const range = `device=pump-0001&metric=temperature&from=${T0}&to=${T0 + 2 * HOUR}`;
      const rest = await call(`/api/metrics/series?${range}&step=60`, viewer);
      expect(rest.status, rest.text).toBe(200);
      for (const step of ['60', '"60"', '"1m"']) {
        const res = await graphql(
          `{ metricSeries(device: "pump-0001", metric: "temperature", from: "${T0}", to: "${T0 + 2 * HOUR}", step: ${step}) { stepMs resolution points { ts value } } }`,
          viewer,
        );
        expect(res.body['errors'], `step: ${step}`).toBeUndefined();
        const series = (res.body['data'] as { metricSeries: Record<string, unknown> }).metricSeries;
        expect(series).toEqual({
          stepMs: rest.body['stepMs'],
          resolution: rest.body['resolution'],
          points: rest.body['points'],
        });
      }
      const bad = await graphql(
        `
          {
            metricSeries(device: "pump-0001", metric: "temperature", step: 1.5) {
              stepMs
            }
          }
        `,
        viewer,
      );
      expect(JSON.stringify(bad.body['errors'])).toMatch(/Duration: expected a whole number of seconds/);
    });

    it('chooses a step from the range when none is given', async () => {
      const res = await call(
        `/api/metrics/series?device=pump-0001&metric=temperature&from=${T0}&to=${T0 + 4 * HOUR}`,
        viewer,
      );
      expect(res.status).toBe(200);
      // 4 h in about 300 points: 48 s, rounded up to a whole minute, which the 1-minute rollup tiles.
      expect(res.body['stepMs']).toBe(60_000);
      expect(res.body['resolution']).toBe('1m');
    });

    it('refuses bad ranges, steps and aggregations with a 400 that names the problem', async () => {
      const bad = {
        'from=abc': /from: expected epoch milliseconds/,
        [`from=${T0 + HOUR}&to=${T0}`]: /from: expected a time before to/,
        'from=0&to=99999999999999': /to - from: expected at most/,
        'step=0': /step: expected a positive duration/,
        'step=-5m': /step: expected a positive duration/,
        'step=1s&from=0&to=86400000': /step: too small for the range/,
        'agg=median': /agg: expected one of/,
        'bogus=1': /bogus/,
      };
      for (const [query, message] of Object.entries(bad)) {
        const res = await call(`/api/metrics/series?device=pump-0001&metric=temperature&${query}`, viewer);
        expect(res.status, query).toBe(400);
        expect(res.text, query).toMatch(message);
      }
      expect((await call('/api/metrics/series?metric=temperature', viewer)).status).toBe(400);
    });

    it('returns the latest sample of each metric', async () => {
      const res = await call('/api/metrics/latest?device=motor-0001', viewer);
      expect(res.status).toBe(200);
      const last = produced.filter((s) => s.deviceId === 'motor-0001' && s.timestampMs === T0 + 719 * 10_000);
      expect(res.body).toEqual(
        last
          .map((s) => ({
            metric: s.metric,
            value: s.value,
            unit: s.unit,
            quality: s.quality,
            ts: new Date(s.timestampMs).toISOString(),
          }))
          .sort((a, b) => a.metric.localeCompare(b.metric)),
      );
    });
  });

  describe('logs', () => {
    const window = `from=${T0}&to=${T0 + HOUR}`;

    it('filters by device, minimum level and text, newest first', async () => {
      const res = await call(
        `/api/logs?${window}&device=pump-0001&level=WARN&contains=bearing%20temp&limit=1000`,
        viewer,
      );
      expect(res.status).toBe(200);
      const want = logs
        .filter(
          (l) =>
            l.deviceId === 'pump-0001' &&
            (l.severity === 'WARN' || l.severity === 'ERROR') &&
            l.body.toLowerCase().includes('bearing temp'),
        )
        .sort((a, b) => b.timestampMs - a.timestampMs || b.eventId.localeCompare(a.eventId))
        .map((l) => l.eventId);
      expect(want.length).toBeGreaterThan(0);
      expect((res.body['items'] as Array<{ eventId: string }>).map((l) => l.eventId)).toEqual(want);
    });

    it('counts matching records per bucket for the histogram, the same in REST and GraphQL', async () => {
      const res = await call(`/api/logs/histogram?${window}&level=WARN&step=1m`, viewer);
      expect(res.status, res.text).toBe(200);
      const want = new Map<number, number>();
      for (const l of logs.filter((l) => l.severity === 'WARN' || l.severity === 'ERROR')) {
        const bucket = Math.floor(l.timestampMs / 60_000) * 60_000;
        want.set(bucket, (want.get(bucket) ?? 0) + 1);
      }
      expect(res.body).toEqual({
        stepMs: 60_000,
        from: new Date(T0).toISOString(),
        to: new Date(T0 + HOUR).toISOString(),
        buckets: [...want.entries()].map(([ts, count]) => ({ ts: new Date(ts).toISOString(), count })),
      });
      const gql = await graphql(
        `{ logHistogram(from: "${T0}", to: "${T0 + HOUR}", level: "WARN", step: 60) { stepMs buckets { ts count } } }`,
        viewer,
      );
      expect(gql.body['data']).toEqual({
        logHistogram: { stepMs: 60_000, buckets: res.body['buckets'] },
      });
      expect((await call(`/api/logs/histogram?${window}&step=1s`, viewer)).text).toMatch(
        /3600 buckets exceed the limit of 1000/,
      );
    });

    it('treats LIKE wildcards in the text as plain characters', async () => {
      const res = await call(
        `/api/logs?${window}&contains=${encodeURIComponent('100%_ok')}&limit=1000`,
        viewer,
      );
      expect((res.body['items'] as unknown[]).length).toBe(
        logs.filter((l) => l.body.includes('100%_ok')).length,
      );
      const none = await call(`/api/logs?${window}&contains=${encodeURIComponent('100_%ok')}`, viewer);
      expect(none.body['items']).toEqual([]);
    });

    it('pages through ties on the timestamp without skipping or repeating', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await call(`/api/logs?${window}&limit=7${cursor ? `&cursor=${cursor}` : ''}`, viewer);
        expect(res.status).toBe(200);
        seen.push(...(res.body['items'] as Array<{ eventId: string }>).map((l) => l.eventId));
        cursor = res.body['nextCursor'] as string | undefined;
      } while (cursor);
      expect(seen).toEqual(
        logs
          .sort((a, b) => b.timestampMs - a.timestampMs || b.eventId.localeCompare(a.eventId))
          .map((l) => l.eventId),
      );
    });
  });

  describe('migration 002, API keys and audit', () => {
    it('created the API tables by migration, not at start', async () => {
      const store = app.get(ClickHouseStore);
      const applied = await store.query<{ version: number; name: string }>(
        `SELECT version, name FROM ${store.table('schema_migrations')} ORDER BY version`,
      );
      expect(applied.map((m) => `${m.version}_${m.name}`).slice(0, 2)).toEqual([
        '1_projections',
        '2_query_api',
      ]);
      const tables = await store.query<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = {db:String} AND name LIKE 'api_%' ORDER BY name`,
        { db: store.database },
      );
      expect(tables.map((t) => t.name)).toEqual(['api_audit', 'api_keys', 'api_refresh_tokens', 'api_users']);
    });

    it('lets admins create and revoke API keys that authenticate with their role', async () => {
      const operator = (await login('operator', 'operator-password-1234')).accessToken;
      expect((await post('/api/keys', { name: 'grafana', role: 'viewer' }, operator)).status).toBe(403);
      expect((await post('/api/keys', { name: 'x', role: 'viewer' }, admin)).status).toBe(400);
      expect((await post('/api/keys', { name: 'grafana', role: 'root' }, admin)).status).toBe(400);

      const created = await post('/api/keys', { name: 'grafana', role: 'viewer' }, admin);
      expect(created.status).toBe(201);
      const { keyId, apiKey } = created.body as { keyId: string; apiKey: string };
      const withKey = (path: string, key = apiKey) =>
        call(path, undefined, { headers: { 'x-api-key': key } });
      expect((await withKey('/api/devices')).status).toBe(200);
      expect((await withKey('/api/users')).status).toBe(403);
      expect((await withKey('/api/system/status')).status).toBe(403);
      expect((await withKey('/api/devices', `${apiKey.slice(0, -2)}xx`)).status).toBe(401);
      expect((await withKey('/api/devices', "sk_' OR 1=1 --")).status).toBe(401);
      const gql = await call('/api/graphql', undefined, {
        method: 'POST',
        headers: { 'x-api-key': apiKey },
        body: JSON.stringify({ query: '{ devices { items { deviceId } } }' }),
      });
      expect(gql.body['errors']).toBeUndefined();

      const listed = await call('/api/keys', admin);
      expect(JSON.stringify(listed.body)).not.toContain(apiKey.split('.')[1]!);
      expect(listed.body).toEqual([
        expect.objectContaining({ keyId, name: 'grafana', role: 'viewer', revoked: false }),
      ]);

      expect((await call(`/api/keys/${keyId}`, admin, { method: 'DELETE' })).status).toBe(204);
      expect((await withKey('/api/devices')).status).toBe(401);
      expect((await call('/api/keys/not-a-uuid', admin, { method: 'DELETE' })).status).toBe(400);
    });

    it('records who did what and when for admin actions', async () => {
      const res = await call('/api/audit', admin);
      expect(res.status).toBe(200);
      const events = res.body as unknown as Array<{
        actor: string;
        actorKind: string;
        action: string;
        target: string;
        ts: string;
      }>;
      const summary = events.map(
        (e) => `${e.actorKind}:${e.actor} ${e.action} ${e.target.length === 36 ? 'key' : e.target}`,
      );
      expect(summary).toEqual(
        expect.arrayContaining([
          'system:system user.create admin',
          'user:admin user.create viewer',
          'user:admin user.create operator',
          'user:admin api-key.create key',
          'user:admin api-key.revoke key',
          // Logins, failed ones too: the login lockout is rebuilt from them after a restart.
          'user:admin auth.login admin',
          'user:victim auth.login-failed victim',
          'user:viewer user.password-change viewer',
        ]),
      );
      expect(events.every((e) => Date.parse(e.ts) > T0)).toBe(true);
      expect((await call('/api/audit', viewer)).status).toBe(403);
    });
  });

  describe('traces, detections, status', () => {
    const window = `from=${T0}&to=${T0 + HOUR}`;

    it('returns every span of a trace for a waterfall', async () => {
      const res = await call('/api/traces/t1', viewer);
      expect(res.status).toBe(200);
      const items = res.body as unknown as Array<Record<string, unknown>>;
      expect(items.map((s) => [s['spanId'], s['parentSpanId'], s['durationUs'], s['status']])).toEqual([
        ['a', '', 120_000, 'OK'],
        ['b', 'a', 100_000, 'ERROR'],
      ]);
      expect(items[1]).toMatchObject({
        startTimeUs: (T0 + 10) * 1000,
        statusMessage: 'timeout',
        events: [{ timeUs: (T0 + 11) * 1000, name: 'retry', attributes: [{ key: 'attempt', value: '1' }] }],
      });
      expect((await call("/api/traces/t1'%20OR%201=1%20--", viewer)).body).toEqual([]);
    });

    it('searches spans by service, name, duration and status, newest first', async () => {
      const ids = async (query: string) =>
        (
          (await call(`/api/traces?${window}&${query}`, viewer)).body as unknown as Array<{ spanId: string }>
        ).map((s) => s.spanId);
      expect(await ids('')).toEqual(['d', 'c', 'b', 'a']);
      expect(await ids('service=connector')).toEqual(['d', 'b']);
      expect(await ids('name=poll&minDurationMs=50')).toEqual(['a']);
      expect(await ids('status=ERROR')).toEqual(['b']);
      expect((await call(`/api/traces?${window}&status=BROKEN`, viewer)).status).toBe(400);
    });

    it('lists anomalies and forecasts per device with their model version', async () => {
      const anomalies = (await call(`/api/anomalies?${window}&device=pump-0001`, viewer))
        .body as unknown as Array<Record<string, unknown>>;
      expect(anomalies.map((a) => [a['eventId'], a['score'], a['modelVersion']])).toEqual([
        ['an-2', 0.7, 'v2'],
        ['an-0', 0.4, 'v0'],
      ]);
      const top = (await call(`/api/anomalies/top-devices?${window}&limit=1`, viewer)).body;
      expect(top).toEqual([
        {
          deviceId: 'pump-0002',
          maxScore: 0.9,
          anomalies: 2,
          lastAnomaly: new Date(T0 + 180_000).toISOString(),
          modelVersion: 'v1',
        },
      ]);
      const fc = (
        await call(
          `/api/forecasts?from=${T0}&to=${T0 + 2 * HOUR}&device=pump-0001&metric=temperature`,
          viewer,
        )
      ).body as unknown as Array<Record<string, unknown>>;
      expect(fc).toEqual([
        expect.objectContaining({
          metric: 'temperature',
          risk: 'HIGH',
          timeToFailureMs: 3_600_000,
          limitLower: null,
          modelVersion: '2.1',
          points: [
            { ts: new Date(T0 + HOUR + 60_000).toISOString(), value: 1, lower: 0, upper: 2 },
            { ts: new Date(T0 + HOUR + 120_000).toISOString(), value: 2, lower: 1, upper: 3 },
          ],
        }),
      ]);
      // Across devices: the newest forecast per device and metric at some risk (pressure's is NONE).
      const atRisk = await call(`/api/forecasts/at-risk?from=${T0}&to=${T0 + 2 * HOUR}`, viewer);
      expect(atRisk.status, atRisk.text).toBe(200);
      expect(
        (atRisk.body as unknown as Array<Record<string, unknown>>).map((f) => [
          f['deviceId'],
          f['metric'],
          f['risk'],
        ]),
      ).toEqual([['pump-0001', 'temperature', 'HIGH']]);
      expect((await call(`/api/forecasts/at-risk?minRisk=NONE`, viewer)).status).toBe(400);
      const gql = await graphql(
        `{ anomalies(device: "pump-0002", from: "${T0}", to: "${T0 + HOUR}") { eventId modelVersion contributions { metric error } } }`,
        viewer,
      );
      expect(gql.body['data']).toEqual({
        anomalies: [
          { eventId: 'an-3', modelVersion: 'v3', contributions: [{ metric: 'pressure', error: 0.1 }] },
          { eventId: 'an-1', modelVersion: 'v1', contributions: [{ metric: 'pressure', error: 0.45 }] },
        ],
      });
    });

    it('enriches devices with when they were last seen and their latest values', async () => {
      const res = await call('/api/devices?type=pump', viewer);
      const items = res.body['items'] as Array<{
        deviceId: string;
        lastSeen?: string;
        latest: Array<{ metric: string }>;
      }>;
      const lastTs = new Date(T0 + 719 * 10_000).toISOString();
      expect(items.map((d) => [d.deviceId, d.lastSeen, d.latest.map((v) => v.metric)])).toEqual([
        ['pump-0001', lastTs, ['pressure', 'temperature']],
        ['pump-0002', lastTs, ['pressure', 'temperature']],
      ]);
    });

    it('reports consumer lag, table sizes and component health to operators', async () => {
      const kafka = app.get<Kafka>(KAFKA);
      const topics = app.get<EventTopics>(EVENT_TOPICS);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: topics.logs,
        messages: [0, 1, 2].map((i) => ({ partition: 0, value: Buffer.from(`raw-${i}`) })),
      });
      await producer.disconnect();
      const groupId = `test-lag-${randomBytes(3).toString('hex')}`;
      const admin_ = kafka.admin();
      await admin_.connect();
      await admin_.setOffsets({ groupId, topic: topics.logs, partitions: [{ partition: 0, offset: '1' }] });
      await admin_.disconnect();

      expect((await call('/api/system/status', viewer)).status).toBe(403);
      const operator = (await login('operator', 'operator-password-1234')).accessToken;
      const res = await call('/api/system/status', operator);
      expect(res.status, res.text).toBe(200);
      const status = res.body as unknown as {
        components: Array<{ name: string; state: string }>;
        consumerGroups: Array<{
          groupId: string;
          lag: number;
          topics: Array<{ topic: string; lag: number }>;
        }>;
        tables: Array<{ table: string; rows: number }>;
      };
      expect(status.components).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'kafka', state: 'up' }),
          expect.objectContaining({ name: 'clickhouse', state: 'up' }),
        ]),
      );
      expect(status.consumerGroups).toEqual([{ groupId, lag: 2, topics: [{ topic: topics.logs, lag: 2 }] }]);
      expect(status.tables).toEqual(
        expect.arrayContaining([
          {
            table: 'metrics',
            rows: produced.length,
            bytesOnDisk: expect.any(Number),
            parts: expect.any(Number),
          },
        ]),
      );
    });

    it('lets admins browse the dead letters, counted by kind of reason; operators see the counts', async () => {
      const kafka = app.get<Kafka>(KAFKA);
      const topics = app.get<EventTopics>(EVENT_TOPICS);
      const producer = kafka.producer();
      await producer.connect();
      // As DeadLetterPublisher writes them: the failed input byte for byte, where it came from in headers.
      const letter = (i: number, reason: string, value: Buffer) => ({
        key: `pump-00${i}`,
        value,
        headers: {
          [deadLetterHeaders.reason]: reason,
          [deadLetterHeaders.component]: 'connector:z2m',
          [deadLetterHeaders.sourceTopic]: 'zigbee2mqtt/+',
          [deadLetterHeaders.sourcePartition]: '-1',
          [deadLetterHeaders.sourceOffset]: '',
          [deadLetterHeaders.failedAt]: String(T0 + i * 1000),
        },
      });
      const big = Buffer.alloc(2 * 1024 * 1024, 'x');
      await producer.send({
        topic: topics.deadLetter,
        messages: [
          letter(1, 'unknown device pump-0041', Buffer.from('{"temperature":21}')),
          letter(2, 'unknown device pump-0042', Buffer.from([0x00, 0xff, 0x10])),
          letter(3, 'payload of 2097152 bytes exceeds the limit', big.subarray(0, 600)),
        ],
      });
      await producer.disconnect();

      const page = async () => {
        const res = await call('/api/system/dead-letters', admin);
        expect(res.status, res.text).toBe(200);
        return res.body as unknown as {
          total: number;
          byReason: Array<Record<string, unknown>>;
          items: Array<Record<string, unknown>>;
        };
      };
      let body = await page();
      for (let i = 0; i < 100 && body.total < 3; i++) {
        await new Promise((r) => setTimeout(r, 200));
        body = await page();
      }
      expect(body.total).toBe(3);
      expect(body.byReason).toEqual([
        expect.objectContaining({ component: 'connector:z2m', reason: 'unknown device #', count: 2 }),
        expect.objectContaining({ reason: 'payload of # bytes exceeds the limit', count: 1 }),
      ]);
      expect(body.items.map((l) => [l['key'], l['valueEncoding'], l['valueBytes']])).toEqual([
        ['pump-003', 'utf8', 600],
        ['pump-002', 'hex', 3],
        ['pump-001', 'utf8', 18],
      ]);
      expect(body.items[0]!['valuePreview']).toHaveLength(512);
      expect(body.items[1]!['valuePreview']).toBe('00ff10');
      expect(body.items[2]).toMatchObject({
        failedAt: new Date(T0 + 1000).toISOString(),
        reason: 'unknown device pump-0041',
        valuePreview: '{"temperature":21}',
      });

      const operator = (await login('operator', 'operator-password-1234')).accessToken;
      expect((await call('/api/system/dead-letters', operator)).status).toBe(403);
      const status = await call('/api/system/status', operator);
      expect(status.body['deadLetters']).toEqual(body.byReason);
      const gql = await graphql('{ deadLetters(limit: 1) { total items { key } } }', admin);
      expect(gql.body['data']).toEqual({ deadLetters: { total: 3, items: [{ key: 'pump-003' }] } });
    });
  });

  describe('hostile input', () => {
    const injections = [
      "' OR 1=1 --",
      "x'); DROP TABLE metrics; --",
      '{device:String}',
      '\\',
      '%',
      "pump-0001' UNION SELECT name FROM system.tables --",
      '\u0000',
      'a'.repeat(300),
    ];
    const endpoints: Array<[string, string[]]> = [
      ['/api/devices', ['type', 'connector', 'online', 'includeRemoved', 'cursor', 'limit']],
      [
        '/api/metrics/series?device=pump-0001&metric=temperature',
        ['device', 'metric', 'from', 'to', 'step', 'agg'],
      ],
      ['/api/metrics/latest?device=pump-0001', ['device']],
      ['/api/logs', ['from', 'to', 'device', 'level', 'contains', 'cursor', 'limit']],
      ['/api/traces', ['from', 'to', 'service', 'name', 'minDurationMs', 'status', 'limit']],
      ['/api/anomalies', ['from', 'to', 'device', 'limit']],
      ['/api/anomalies/top-devices', ['from', 'to', 'limit']],
      ['/api/forecasts?device=pump-0001', ['device', 'metric', 'from', 'to', 'limit']],
      ['/api/audit', ['from', 'to', 'limit']],
    ];

    it('answers 400 or nothing to injection strings in every filter, never a database error', async () => {
      const before = await app.get(MetricsRepository).count();
      for (const [path, params] of endpoints) {
        for (const param of params) {
          for (const value of injections) {
            const url = new URL(path, base);
            url.searchParams.set(param, value);
            // As admin, whom every route admits: the role checks are tested on their own.
            const res = await call(`${url.pathname}${url.search}`, admin);
            const where = `${param}=${JSON.stringify(value)} on ${url.pathname}`;
            expect([200, 400], where).toContain(res.status);
            expect(res.text, where).not.toMatch(
              /DB::Exception|Code: \d+\.|Syntax error|internal server error|\.ts:\d+/i,
            );
            if (res.status === 200 && !Array.isArray(res.body)) {
              const items = (res.body['items'] ?? res.body['points']) as unknown[];
              expect(items, where).toEqual([]);
            } else if (res.status === 200) {
              expect(res.body, where).toEqual([]);
            }
          }
        }
      }
      expect(await app.get(MetricsRepository).count()).toBe(before);
    });

    it('answers GraphQL with the same data and the same validation', async () => {
      const res = await graphql(
        '{ devices(type: "pump") { items { deviceId online labels { key value } } } }',
        viewer,
      );
      expect(res.body['errors']).toBeUndefined();
      expect(res.body['data']).toEqual({
        devices: {
          items: [
            { deviceId: 'pump-0001', online: true, labels: [{ key: 'site', value: 'test' }] },
            { deviceId: 'pump-0002', online: false, labels: [{ key: 'site', value: 'test' }] },
          ],
        },
      });
      const bad = await graphql(
        `
          {
            metricSeries(device: "x' OR 1=1 --", metric: "m", step: "0") {
              points {
                value
              }
            }
          }
        `,
        viewer,
      );
      const errors = bad.body['errors'] as Array<{ message: string; extensions: { code: string } }>;
      expect(errors[0]?.message).toMatch(/step: expected a positive duration/);
      expect(bad.text).not.toMatch(/DB::Exception|stacktrace/i);
    });

    it('refuses GraphQL operations beyond the depth or size limits', async () => {
      const fields = Array.from({ length: 250 }, (_, i) => `a${i}: __typename`).join(' ');
      const res = await graphql(`{ devices { items { deviceId } } ${fields} }`, viewer);
      expect(res.text).toMatch(/more than 200 fields/);
    });
  });
});

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}
