import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import {
  eventStreams,
  type Anomaly,
  type DeviceLogRecord,
  type Forecast,
  type TelemetrySample,
} from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlertmanagerPeer, HttpReceiver, SmtpPeer } from '../../tools/peers/alerting-peers.js';
import { alertEvents, ApiClient, until, type WebhookBody } from './alerting-support.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

/**
 * Every rule kind fires and resolves end to end through the real broker to all three real channels: the
 * webhook receiver, the SMTP server (aiosmtpd, STARTTLS + AUTH) and a real Alertmanager. The same receiver
 * also has a flaky webhook (503 twice, then 200: retried with backoff) and a dead one (never answers: given
 * up at the deadline), which must not delay the others; every attempt is read back through the API.
 */
const PASSWORD = 'a long enough admin passphrase';

interface Attempt {
  idempotencyKey: string;
  integration: string;
  attempt: number;
  ok: boolean;
  status: number | null;
  error: string | null;
  startedAt: number;
  durationMs: number;
  final: boolean;
}

describe('alerting: each rule kind fires and resolves to webhook, email and Alertmanager', () => {
  let box: Sandbox;
  let webhook: HttpReceiver;
  let flaky: HttpReceiver;
  let dead: HttpReceiver;
  let smtp: SmtpPeer;
  let am: AlertmanagerPeer;
  let platform: PlatformProcess | undefined;
  let producer: EventProducer;
  let api: ApiClient;
  let telemetry: EventCodec<TelemetrySample>;
  let anomalies: EventCodec<Anomaly>;
  let forecasts: EventCodec<Forecast>;
  let logs: EventCodec<DeviceLogRecord>;
  let seq = 0;
  let meter: NodeJS.Timeout | undefined;

  const samples = (rows: Array<[device: string, metric: string, value: number]>) =>
    producer.send(
      box.topics.telemetry,
      rows.map(([deviceId, metric, value]) => ({
        key: deviceId,
        value: telemetry.encode({
          eventId: `kind-${seq++}`,
          deviceId,
          timestampMs: Date.now(),
          metric,
          value,
          unit: null,
          quality: 'GOOD',
          labels: { site: 'north' },
          source: 'test',
        }),
      })),
    );
  const anomaly = (deviceId: string, score: number) => {
    const ts = Date.now();
    const a: Anomaly = {
      eventId: `kind-${seq++}`,
      deviceId,
      assetId: deviceId,
      timestampMs: ts,
      windowStartMs: ts - 10_000,
      windowEndMs: ts,
      score,
      threshold: 1,
      contributions: [{ metric: 'vibration_rms', error: score }],
      modelId: 'ae',
      modelVersion: '1',
    };
    return producer.send(box.topics.anomalies, [{ key: deviceId, value: anomalies.encode(a) }]);
  };
  const forecast = (deviceId: string, ttfMs: number | null) => {
    const f: Forecast = {
      eventId: `kind-${seq++}`,
      deviceId,
      metric: 'bearing_temperature',
      timestampMs: Date.now(),
      points: [],
      intervalLevel: 0.9,
      limitLower: null,
      limitUpper: 90,
      timeToFailureMs: ttfMs,
      risk: ttfMs === null ? 'NONE' : 'HIGH',
      confidence: null,
      mase: null,
      modelId: 'holt',
      modelVersion: '1',
    };
    return producer.send(box.topics.forecasts, [{ key: deviceId, value: forecasts.encode(f) }]);
  };
  const log = (deviceId: string, severity: DeviceLogRecord['severity'], body: string) => {
    const l: DeviceLogRecord = {
      eventId: `kind-${seq++}`,
      deviceId,
      timestampMs: Date.now(),
      severity,
      body,
      attributes: {},
      traceId: null,
      spanId: null,
      source: 'test',
    };
    return producer.send(box.topics.logs, [{ key: deviceId, value: logs.encode(l) }]);
  };

  const hooks = (alertname: string) =>
    webhook
      .json<WebhookBody>('/ops')
      .filter((b) => b.groupLabels['alertname'] === alertname)
      .flatMap((b) => b.alerts);

  /** Fires, is seen on all three channels with its explanation, resolves, is seen resolved on all three. */
  async function firesAndResolves(
    ruleId: string,
    alertname: string,
    device: string,
    fire: () => Promise<void>,
    resolve: () => Promise<void>,
  ): Promise<WebhookBody['alerts'][number]> {
    await fire();
    const firing = await until(`${alertname} firing on the webhook`, () =>
      hooks(alertname).find((a) => a.status === 'firing' && a.labels['device'] === device),
    );
    expect(firing.annotations['explanation']).toBeTruthy();
    expect(firing.annotations['severity_reason']).toMatch(/^base /);
    const mail = await until(`${alertname} firing email`, () =>
      smtp.messages().find((m) => m.includes(`Subject: [FIRING:1] alertname=${alertname}`)),
    );
    expect(mail).toContain(device);
    const inAm = await until(`${alertname} in Alertmanager`, async () =>
      (await am.alerts()).find((a) => a.labels['alertname'] === alertname && a.labels['device'] === device),
    );
    expect(inAm.status.state).toBe('active');
    expect(inAm.annotations['explanation']).toBe(firing.annotations['explanation']);

    await resolve();
    await until(`${alertname} resolved on the webhook`, () =>
      hooks(alertname).find((a) => a.status === 'resolved' && a.labels['device'] === device),
    );
    await until(`${alertname} resolved email`, () =>
      smtp.messages().find((m) => m.includes(`Subject: [RESOLVED] alertname=${alertname}`)),
    );
    await until(`${alertname} resolved in Alertmanager`, async () =>
      (await am.alerts()).some((a) => a.labels['alertname'] === alertname) ? undefined : true,
    );
    const events = (await alertEvents(box)).filter((e) => e.ruleId === ruleId);
    expect(events.map((e) => e.status).filter((s) => s !== 'PENDING')).toEqual(['FIRING', 'RESOLVED']);
    return firing;
  }

  beforeAll(async () => {
    box = await sandbox('alerting_kinds');
    [webhook, flaky, dead, smtp, am] = await Promise.all([
      HttpReceiver.start(),
      HttpReceiver.start(),
      HttpReceiver.start(),
      SmtpPeer.start(),
      AlertmanagerPeer.start(),
    ]);
    // The flaky receiver fails each notification twice (503) before taking it; the dead one never answers.
    const tries = new Map<string, number>();
    flaky.respond = (req) => {
      const key = String(req.headers['idempotency-key']);
      const n = (tries.get(key) ?? 0) + 1;
      tries.set(key, n);
      return { status: n <= 2 ? 503 : 200 };
    };
    dead.respond = () => ({ status: 200, delayMs: 120_000 });
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    // One at a time: concurrent first registrations of new subjects race in the registry.
    telemetry = await EventCodec.register(serde, eventStreams.telemetry, box.topics.telemetry);
    anomalies = await EventCodec.register(serde, eventStreams.anomalies, box.topics.anomalies);
    forecasts = await EventCodec.register(serde, eventStreams.forecasts, box.topics.forecasts);
    logs = await EventCodec.register(serde, eventStreams.logs, box.topics.logs);
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 2, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    const dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-kinds-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      stringify({
        rules: [
          {
            id: 'k-threshold',
            name: 'Kind threshold',
            condition: {
              kind: 'threshold',
              metric: 'bearing_temperature',
              aggregation: 'last',
              window: '10m',
              op: '>',
              threshold: 80,
              clearThreshold: 70,
            },
            selector: { devices: ['k-thr'] },
            severity: 'major',
          },
          {
            id: 'k-nodata',
            name: 'Kind nodata',
            condition: { kind: 'nodata', metric: 'flow_rate', silentFor: '4s' },
            selector: { devices: ['k-nd'] },
            severity: 'minor',
          },
          {
            id: 'k-anomaly',
            name: 'Kind anomaly',
            condition: { kind: 'anomaly', windows: 2, within: '8s' },
            selector: { devices: ['k-an'] },
            severity: 'warning',
          },
          {
            id: 'k-forecast',
            name: 'Kind forecast',
            condition: { kind: 'forecast', metric: 'bearing_temperature', timeToFailureUnder: '1h' },
            selector: { devices: ['k-fc'] },
            severity: 'minor',
          },
          {
            id: 'k-log',
            name: 'Kind log',
            condition: {
              kind: 'log',
              pattern: 'seal (leak|failure)',
              minSeverity: 'WARN',
              window: '8s',
              count: 2,
            },
            selector: { devices: ['k-log'] },
            severity: 'warning',
          },
          {
            id: 'k-composite',
            name: 'Kind composite',
            condition: {
              kind: 'composite',
              op: 'and',
              conditions: [
                { kind: 'log', pattern: 'overheat', window: '10m', count: 1 },
                {
                  kind: 'threshold',
                  metric: 'motor_current',
                  aggregation: 'last',
                  window: '10m',
                  op: '>',
                  threshold: 50,
                },
              ],
            },
            selector: { devices: ['k-cmp'] },
            severity: 'major',
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'sentio.yaml'),
      stringify({
        alerting: {
          receivers: [
            {
              name: 'ops',
              webhook: [
                { url: `${webhook.url}/ops` },
                { url: `${flaky.url}/flaky` },
                { url: `${dead.url}/dead` },
              ],
              email: [
                {
                  to: 'ops@example.com',
                  from: 'sentio@example.com',
                  smarthost: `127.0.0.1:${smtp.port}`,
                  requireTls: true,
                  tlsInsecure: true,
                  auth: { username: smtp.user, password: smtp.password },
                },
              ],
              alertmanager: [{ url: am.url }],
            },
          ],
          route: {
            receiver: 'ops',
            groupBy: ['alertname'],
            groupWait: '1s',
            groupInterval: '2s',
            repeatInterval: '1h',
          },
        },
      }),
    );
    platform = await PlatformProcess.start(
      'alerting,api',
      {
        ...box.env,
        SENTIO_CONFIG_FILE: join(dir, 'sentio.yaml'),
        ALERTING_RULES_PATH: join(dir, 'rules.yaml'),
        ALERTING_GROUP_ID: `alerting-${box.namespace}`,
        ALERTING_IDLE_ADVANCE_MS: '1000',
        SENTIO_ADMIN_USER: 'admin',
        SENTIO_ADMIN_PASSWORD: PASSWORD,
      },
      'alerting-dispatcher',
    );
    api = await ApiClient.login(platform.baseUrl, 'admin', PASSWORD);
  });

  afterAll(async () => {
    clearInterval(meter);
    await platform?.stop();
    await producer?.disconnect();
    await Promise.all([webhook?.stop(), flaky?.stop(), dead?.stop(), smtp?.stop(), am?.stop()]);
  });

  it('threshold: a hot bearing fires, cooling below the clear threshold resolves', async () => {
    const a = await firesAndResolves(
      'k-threshold',
      'Kind threshold',
      'k-thr',
      () => samples([['k-thr', 'bearing_temperature', 95]]),
      () => samples([['k-thr', 'bearing_temperature', 40]]),
    );
    expect(a.annotations['explanation']).toMatch(/bearing_temperature/);
  });

  it('no data: a silent flow meter fires, data again resolves', async () => {
    await samples([['k-nd', 'flow_rate', 30]]);
    const a = await firesAndResolves(
      'k-nodata',
      'Kind nodata',
      'k-nd',
      async () => undefined, // event time moves on with the wall clock while k-nd is silent
      async () => {
        await samples([['k-nd', 'flow_rate', 31]]);
        // From now on the meter reports every second, so it does not go silent again.
        meter = setInterval(() => void samples([['k-nd', 'flow_rate', 32]]), 1000);
      },
    );
    expect(a.annotations['explanation']).toMatch(/no flow_rate for \d+s \(limit 4s\)/);
  });

  it('anomaly: two flagged windows fire, their ageing out of the 8 s resolves', async () => {
    const a = await firesAndResolves(
      'k-anomaly',
      'Kind anomaly',
      'k-an',
      async () => {
        await anomaly('k-an', 1.5);
        await anomaly('k-an', 3.2);
      },
      async () => undefined,
    );
    expect(a.annotations['explanation']).toBe('2 anomalous windows in 8s (needs 2)');
    expect(a.annotations['severity_reason']).toMatch(/anomaly score 3.2x/);
  });

  it('forecast: a short time to failure fires, a forecast without failure resolves', async () => {
    const a = await firesAndResolves(
      'k-forecast',
      'Kind forecast',
      'k-fc',
      () => forecast('k-fc', 20 * 60_000),
      () => forecast('k-fc', null),
    );
    expect(a.annotations['explanation']).toBe(
      'forecast of bearing_temperature: risk HIGH, time to failure 20 min',
    );
  });

  it('log pattern: two matching WARN+ logs in 8 s fire (INFO ones do not count), then resolve', async () => {
    const a = await firesAndResolves(
      'k-log',
      'Kind log',
      'k-log',
      async () => {
        await log('k-log', 'INFO', 'seal leak suspected');
        await log('k-log', 'WARN', 'seal leak detected');
        await log('k-log', 'ERROR', 'seal failure: pressure drop');
      },
      async () => undefined,
    );
    expect(a.annotations['explanation']).toBe('2 matching logs in 8s (needs 2)');
  });

  it('composite: an overheat log AND a high motor current fire; the current falling resolves', async () => {
    const a = await firesAndResolves(
      'k-composite',
      'Kind composite',
      'k-cmp',
      async () => {
        await samples([['k-cmp', 'motor_current', 60]]);
        await log('k-cmp', 'ERROR', 'motor overheat');
      },
      () => samples([['k-cmp', 'motor_current', 10]]),
    );
    expect(a.annotations['explanation']).toBe('log: alerting AND threshold motor_current: alerting');
  });

  it('retries with backoff per receiver; a dead receiver delays no other; every attempt is visible through the API', async () => {
    const attempts = await until(
      'final attempts recorded',
      async () => {
        const list = await api.get<Attempt[]>('/api/alerting/deliveries?receiver=ops&limit=10000');
        const flakyFinal = list.filter((d) => d.integration === 'ops/webhook[1]' && d.final);
        const deadFinal = list.filter((d) => d.integration === 'ops/webhook[2]' && d.final);
        return flakyFinal.length >= 12 && new Set(deadFinal.map((d) => d.idempotencyKey)).size >= 6
          ? list
          : undefined;
      },
      90_000,
    );
    const byKey = (integration: string) => {
      const out = new Map<string, Attempt[]>();
      for (const a of attempts.filter((x) => x.integration === integration))
        out.set(a.idempotencyKey, [...(out.get(a.idempotencyKey) ?? []), a]);
      for (const list of out.values()) list.sort((x, y) => x.attempt - y.attempt);
      return out;
    };
    // Flaky: each of the 12 notifications (6 kinds, firing and resolved) took three attempts, the gaps growing.
    const flakyRuns = [...byKey('ops/webhook[1]').values()];
    expect(flakyRuns).toHaveLength(12);
    for (const run of flakyRuns) {
      expect(run.map((a) => [a.attempt, a.ok, a.status])).toEqual([
        [1, false, 503],
        [2, false, 503],
        [3, true, 200],
      ]);
      const gap1 = run[1]!.startedAt - (run[0]!.startedAt + run[0]!.durationMs);
      const gap2 = run[2]!.startedAt - (run[1]!.startedAt + run[1]!.durationMs);
      expect(gap1).toBeGreaterThanOrEqual(450);
      expect(gap2).toBeGreaterThanOrEqual(950); // the backoff doubles: 0.5 s, then 1 s
    }
    expect(flaky.requests).toHaveLength(36);
    // Dead: every try hung until the notification's deadline (5 s), was given up and recorded as failed.
    const deadAttempts = attempts.filter((a) => a.integration === 'ops/webhook[2]');
    expect(new Set(deadAttempts.map((a) => a.idempotencyKey)).size).toBeGreaterThanOrEqual(6);
    for (const a of deadAttempts) {
      expect(a).toMatchObject({ ok: false, final: true, attempt: 1 });
      expect(a.durationMs).toBeGreaterThanOrEqual(4500);
    }
    // The good webhook got each notification (once) when the flaky one got its first try and, for the
    // firing ones, the dead one its first: neither the retries nor the hanging receiver delayed it.
    const good = webhook.requests.filter((r) => r.path === '/ops');
    expect(good).toHaveLength(12);
    const keyOf = (body: string) => {
      const b = JSON.parse(body) as WebhookBody;
      return `${b.groupKey} ${b.status}`;
    };
    for (const g of good) {
      const f = flaky.requests.find((r) => keyOf(r.body) === keyOf(g.body))!;
      expect(Math.abs(f.at - g.at)).toBeLessThan(1000);
      if ((JSON.parse(g.body) as WebhookBody).status !== 'firing') continue;
      const d = dead.requests.find((r) => keyOf(r.body) === keyOf(g.body))!;
      expect(Math.abs(d.at - g.at)).toBeLessThan(1000);
    }
    const goodAttempts = attempts.filter((a) => a.integration === 'ops/webhook[0]');
    expect(goodAttempts.every((a) => a.ok && a.attempt === 1)).toBe(true);
    expect(goodAttempts).toHaveLength(12);
  });
});
