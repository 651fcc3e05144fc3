import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
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
import { alertEvents, until } from './alerting-support.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess, repoRoot } from './support/platform-process.js';

/**
 * End to end against the real broker and registry: rules provisioned from YAML, telemetry and anomalies in,
 * transitions on the alerts topic, grouped notifications to a webhook (signed, Alertmanager v4 payload),
 * over SMTP (STARTTLS + AUTH, aiosmtpd) and to a real Alertmanager.
 */
const SECRET = 'webhook-secret-of-the-test';

interface WebhookBody {
  version: string;
  status: string;
  groupKey: string;
  receiver: string;
  groupLabels: Record<string, string>;
  alerts: Array<{
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    fingerprint: string;
  }>;
}

describe('alerting end to end', () => {
  let box: Sandbox;
  let webhook: HttpReceiver;
  let smtp: SmtpPeer;
  let am: AlertmanagerPeer;
  let platform: PlatformProcess | undefined;
  let producer: EventProducer;
  let telemetry: EventCodec<TelemetrySample>;
  let anomalies: EventCodec<Anomaly>;
  const t0 = Date.now() - 120_000;
  let dir: string;

  const sample = (deviceId: string, s: number, metric: string, value: number): TelemetrySample => ({
    eventId: `${deviceId}-${metric}-${s}`,
    deviceId,
    timestampMs: t0 + s * 1000,
    metric,
    value,
    unit: null,
    quality: 'GOOD',
    labels: {
      site: 'north',
      deviceType: 'pump',
      ...(deviceId === 'pump-0001' ? { criticality: 'high' } : {}),
    },
    source: 'test',
  });
  const send = (samples: TelemetrySample[]) =>
    producer.send(
      box.topics.telemetry,
      samples.map((s) => ({ key: s.deviceId, value: telemetry.encode(s) })),
    );

  beforeAll(async () => {
    box = await sandbox('alerting_e2e');
    [webhook, smtp, am] = await Promise.all([
      HttpReceiver.start(),
      SmtpPeer.start(),
      AlertmanagerPeer.start(),
    ]);
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    telemetry = await EventCodec.register(serde, eventStreams.telemetry, box.topics.telemetry);
    anomalies = await EventCodec.register(serde, eventStreams.anomalies, box.topics.anomalies);
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      stringify({
        rules: [
          {
            id: 'pump-hot',
            name: 'Pump bearing hot',
            condition: {
              kind: 'threshold',
              metric: 'bearing_temperature',
              aggregation: 'avg',
              window: '10s',
              op: '>',
              threshold: 80,
              clearThreshold: 70,
            },
            for: '3s',
            severity: 'major',
            selector: { deviceType: 'pump' },
            labels: { team: 'maintenance' },
            annotations: { summary: '{{device}} bearing at {{value}} °C (limit {{threshold}})' },
          },
          {
            id: 'pump-silent',
            name: 'Pump silent',
            condition: { kind: 'nodata', metric: 'flow_rate', silentFor: '15s' },
            severity: 'minor',
            selector: { site: 'north' },
          },
          {
            id: 'pump-ttf',
            name: 'Pump bearing failing soon',
            condition: { kind: 'forecast', metric: 'bearing_temperature', timeToFailureUnder: '1h' },
            severity: 'minor',
            annotations: { summary: '{{device}} bearing reaches its limit in {{timeToFailure}}' },
          },
          {
            id: 'pump-seal',
            name: 'Pump seal leak logged',
            condition: {
              kind: 'composite',
              op: 'and',
              conditions: [
                { kind: 'log', pattern: 'seal (leak|failure)', minSeverity: 'WARN', window: '60s', count: 2 },
                {
                  kind: 'threshold',
                  metric: 'flow_rate',
                  aggregation: 'last',
                  window: '10s',
                  op: '<',
                  threshold: 20,
                },
              ],
            },
            severity: 'warning',
          },
          {
            id: 'pump-anomaly',
            name: 'Pump anomaly',
            condition: { kind: 'anomaly', windows: 2, within: '60s' },
            severity: 'warning',
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
              webhook: [{ url: `${webhook.url}/hook`, secret: SECRET }],
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
              slack: [{ url: `${webhook.url}/slack`, channel: '#plant' }],
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
      'alerting',
      {
        ...box.env,
        SENTIO_CONFIG_FILE: join(dir, 'sentio.yaml'),
        ALERTING_RULES_PATH: join(dir, 'rules.yaml'),
        ALERTING_GROUP_ID: `alerting-${box.namespace}`,
        ALERTING_IDLE_ADVANCE_MS: '1000',
      },
      'alerting-dispatcher',
    );
  });

  afterAll(async () => {
    await platform?.stop();
    await producer?.disconnect();
    await Promise.all([webhook?.stop(), smtp?.stop(), am?.stop()]);
  });

  it('a hot bearing goes pending, fires once, is notified grouped to webhook, email and Alertmanager, and resolves', async () => {
    const normal: TelemetrySample[] = [];
    for (let s = 0; s < 20; s++)
      for (const d of ['pump-0001', 'pump-0002'])
        normal.push(sample(d, s, 'bearing_temperature', 50), sample(d, s, 'flow_rate', 30));
    await send(normal);
    const hot: TelemetrySample[] = [];
    for (let s = 20; s < 40; s++)
      hot.push(
        sample('pump-0001', s, 'bearing_temperature', 100),
        sample('pump-0001', s, 'flow_rate', 30),
        sample('pump-0002', s, 'bearing_temperature', 50),
        sample('pump-0002', s, 'flow_rate', 30),
      );
    await send(hot);

    const firing = await until('firing webhook', () =>
      webhook.requests.find((r) =>
        (JSON.parse(r.body) as WebhookBody).alerts.some(
          (a) => a.labels['alertname'] === 'Pump bearing hot' && a.status === 'firing',
        ),
      ),
    );
    const body = JSON.parse(firing.body) as WebhookBody;
    expect(body.version).toBe('4');
    expect(body.status).toBe('firing');
    expect(body.groupLabels).toEqual({ alertname: 'Pump bearing hot' });
    expect(body.alerts).toHaveLength(1);
    expect(body.alerts[0]!.labels).toMatchObject({
      device: 'pump-0001',
      team: 'maintenance',
      rule_id: 'pump-hot',
    });
    // Context: base major, raised by the device's criticality label.
    expect(body.alerts[0]!.labels['severity']).toBe('critical');
    expect(body.alerts[0]!.annotations['severity_reason']).toMatch(/criticality high/);
    expect(body.alerts[0]!.annotations['summary']).toMatch(
      /^pump-0001 bearing at \d+(\.\d+)? °C \(limit 80\)$/,
    );
    const ts = firing.headers['x-sentio-timestamp'] as string;
    expect(firing.headers['x-sentio-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(`${ts}.${firing.body}`).digest('hex')}`,
    );
    expect(firing.headers['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);

    const slack = await until('firing Slack message', () =>
      webhook
        .json<{ text: string; channel: string; attachments: Array<{ title: string; text: string }> }>(
          '/slack',
        )
        .find((m) => m.text.includes('Pump bearing hot')),
    );
    expect(slack.text).toBe('[FIRING:1] Pump bearing hot');
    expect(slack.channel).toBe('#plant');
    expect(slack.attachments[0]!.title).toMatch(/^Firing: pump-0001 bearing at/);
    expect(slack.attachments[0]!.text).toMatch(/Severity: base major, \+1 device criticality high/);
    const mail = await until('firing email', () =>
      smtp.messages().find((m) => /Subject: \[FIRING:1\] alertname=Pump bearing hot/.test(m)),
    );
    expect(mail).toMatch(/pump-0001/);
    const inAm = await until('alert in Alertmanager', async () =>
      (await am.alerts()).find(
        (a) => a.labels['alertname'] === 'Pump bearing hot' && a.labels['device'] === 'pump-0001',
      ),
    );
    expect(inAm.status.state).toBe('active');

    // Cool down below the clear threshold: resolved, notified once more.
    const cool: TelemetrySample[] = [];
    for (let s = 40; s < 60; s++)
      for (const d of ['pump-0001', 'pump-0002'])
        cool.push(sample(d, s, 'bearing_temperature', 40), sample(d, s, 'flow_rate', 30));
    await send(cool);
    await until('resolved webhook', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find(
          (b) =>
            b.status === 'resolved' && b.alerts.some((a) => a.labels['alertname'] === 'Pump bearing hot'),
        ),
    );
    await until('resolved in Alertmanager', async () =>
      (await am.alerts()).some((a) => a.labels['alertname'] === 'Pump bearing hot') ? undefined : true,
    );
    await until('resolved email', () =>
      smtp.messages().find((m) => /Subject: \[RESOLVED\] alertname=Pump bearing hot/.test(m)),
    );

    const events = (await alertEvents(box)).filter((e) => e.ruleId === 'pump-hot');
    expect(events.map((e) => `${e.deviceId} ${e.previousStatus}>${e.status}`)).toEqual([
      'pump-0001 INACTIVE>PENDING',
      'pump-0001 PENDING>FIRING',
      'pump-0001 FIRING>RESOLVED',
    ]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
    // Exactly one firing and one resolved notification on the webhook for this group.
    const hotBodies = webhook
      .json<WebhookBody>('/hook')
      .filter((b) => b.groupLabels['alertname'] === 'Pump bearing hot');
    expect(hotBodies.map((b) => b.status)).toEqual(['firing', 'resolved']);
  });

  it('an anomaly rule fires after two flagged windows', async () => {
    const anomaly = (s: number, score: number): Anomaly => ({
      eventId: `an-${s}`,
      deviceId: 'pump-0002',
      assetId: 'pump-0002',
      timestampMs: t0 + s * 1000,
      windowStartMs: t0 + (s - 10) * 1000,
      windowEndMs: t0 + s * 1000,
      score,
      threshold: 1,
      contributions: [{ metric: 'vibration_rms', error: score }],
      modelId: 'ae',
      modelVersion: '1',
    });
    await producer.send(
      box.topics.anomalies,
      [anomaly(61, 1.5), anomaly(62, 3.1)].map((a) => ({ key: a.deviceId, value: anomalies.encode(a) })),
    );
    const hook = await until('anomaly webhook', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find((b) => b.groupLabels['alertname'] === 'Pump anomaly' && b.status === 'firing'),
    );
    expect(hook.alerts[0]!.labels).toMatchObject({ device: 'pump-0002', severity: 'minor' });
    expect(hook.alerts[0]!.annotations['severity_reason']).toMatch(/anomaly score 3.1x/);
  });

  it('a silent flow meter fires a no-data alert', async () => {
    // pump-0002 keeps reporting bearing temperature but its flow meter stops (event time moves on).
    const rows: TelemetrySample[] = [];
    for (let s = 60; s < 90; s++)
      rows.push(sample('pump-0002', s, 'bearing_temperature', 50), sample('pump-0001', s, 'flow_rate', 30));
    await send(rows);
    const hook = await until('no-data webhook', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find((b) => b.groupLabels['alertname'] === 'Pump silent' && b.status === 'firing'),
    );
    expect(hook.alerts.map((a) => a.labels['device'])).toEqual(['pump-0002']);
    expect(hook.alerts[0]!.annotations['explanation']).toMatch(/no flow_rate for \d+s \(limit 15s\)/);
  });

  it('a forecast with a short time to failure, and seal-leak logs with falling flow (composite), fire and resolve', async () => {
    const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
    const forecasts = await EventCodec.register(serde, eventStreams.forecasts, box.topics.forecasts);
    const logs = await EventCodec.register(serde, eventStreams.logs, box.topics.logs);
    const forecast = (s: number, ttfMs: number | null): Forecast => ({
      eventId: `fc-${s}`,
      deviceId: 'pump-0001',
      metric: 'bearing_temperature',
      timestampMs: t0 + s * 1000,
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
    });
    await producer.send(
      box.topics.forecasts,
      [forecast(91, 20 * 60_000)].map((f) => ({ key: f.deviceId, value: forecasts.encode(f) })),
    );
    const ttf = await until('forecast webhook', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find((b) => b.groupLabels['alertname'] === 'Pump bearing failing soon' && b.status === 'firing'),
    );
    expect(ttf.alerts[0]!.annotations['summary']).toBe('pump-0001 bearing reaches its limit in 20 min');
    // minor, +1 HIGH risk, +1 time to failure under an hour, +1 device criticality
    expect(ttf.alerts[0]!.labels['severity']).toBe('critical');
    await producer.send(
      box.topics.forecasts,
      [forecast(95, null)].map((f) => ({ key: f.deviceId, value: forecasts.encode(f) })),
    );
    await until('forecast resolved', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find((b) => b.groupLabels['alertname'] === 'Pump bearing failing soon' && b.status === 'resolved'),
    );

    const log = (s: number, body: string): DeviceLogRecord => ({
      eventId: `log-${s}`,
      deviceId: 'pump-0001',
      timestampMs: t0 + s * 1000,
      severity: 'ERROR',
      body,
      attributes: {},
      traceId: null,
      spanId: null,
      source: 'test',
    });
    await send([96, 97, 98].map((sec) => sample('pump-0001', sec, 'flow_rate', 10)));
    await producer.send(
      box.topics.logs,
      [log(99, 'seal leak detected'), log(100, 'seal failure: pressure drop')].map((l) => ({
        key: l.deviceId,
        value: logs.encode(l),
      })),
    );
    const seal = await until('composite webhook', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find((b) => b.groupLabels['alertname'] === 'Pump seal leak logged' && b.status === 'firing'),
    );
    expect(seal.alerts[0]!.annotations['explanation']).toBe(
      'log: alerting AND threshold flow_rate: alerting',
    );
    await send([101, 102].map((sec) => sample('pump-0001', sec, 'flow_rate', 30)));
    await until('composite resolved', () =>
      webhook
        .json<WebhookBody>('/hook')
        .find((b) => b.groupLabels['alertname'] === 'Pump seal leak logged' && b.status === 'resolved'),
    );
  });

  it('the backtest command replays the same data through the same evaluator and agrees with live', async () => {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        join(repoRoot, 'tools/cli/src/main.ts'),
        'alerts',
        'backtest',
        '--rule',
        join(dir, 'rules.yaml'),
        '--id',
        'pump-hot',
        '--from',
        String(t0),
        '--to',
        String(t0 + 100_000),
        '--json',
      ],
      { cwd: repoRoot, env: { ...process.env, ...box.env, SENTIO_LOG_LEVEL: 'warn' }, encoding: 'utf8' },
    );
    const replayed = out
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            deviceId: string;
            previous: string;
            status: string;
            ts: number;
            eventId: string;
          },
      );
    const live = (await alertEvents(box)).filter((e) => e.ruleId === 'pump-hot');
    expect(
      replayed.map((t) => [t.deviceId, t.previous.toUpperCase(), t.status.toUpperCase(), t.ts, t.eventId]),
    ).toEqual(live.map((e) => [e.deviceId, e.previousStatus, e.status, e.timestampMs, e.eventId]));
  });
});
