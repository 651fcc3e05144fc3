import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type AlertEvent, type TelemetrySample } from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HttpReceiver } from '../../tools/peers/alerting-peers.js';
import { until } from './alerting-support.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

/**
 * The alerting API through the real `api` and `alerting` targets in one process: rules created, refused,
 * paused and deleted over REST and GraphQL by an operator (a viewer may only read), alerts acknowledged,
 * silences muting notifications, delivery attempts and the audit trail visible; alert history read from the
 * `alerts` table (ingest's projection of the alerts topic), older than what the API process keeps in memory.
 */
interface Hook {
  status: string;
  alerts: Array<{ status: string; labels: Record<string, string> }>;
}

describe('alerting API', () => {
  let box: Sandbox;
  let webhook: HttpReceiver;
  let platform: PlatformProcess | undefined;
  let producer: EventProducer;
  let codec: EventCodec<TelemetrySample>;
  let admin: string;
  let viewer: string;
  const t0 = Date.now() - 300_000;

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${platform!.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown> & unknown[]) : undefined,
    };
  };
  const login = async (username: string, password: string) => {
    const res = await fetch(`${platform!.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return ((await res.json()) as { accessToken: string }).accessToken;
  };
  const gql = async (token: string, query: string) =>
    (await (
      await fetch(`${platform!.baseUrl}/api/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      })
    ).json()) as {
      data?: Record<string, unknown>;
      errors?: Array<{ message: string }>;
    };
  const hot = (deviceId: string, from: number, to: number, value: number) => {
    const rows: TelemetrySample[] = [];
    for (let s = from; s < to; s++)
      rows.push({
        eventId: `${deviceId}-${s}`,
        deviceId,
        timestampMs: t0 + s * 1000,
        metric: 'temperature',
        value,
        unit: null,
        quality: 'GOOD',
        labels: { site: 'north' },
        source: 'test',
      });
    return producer.send(
      box.topics.telemetry,
      rows.map((r) => ({ key: r.deviceId, value: codec.encode(r) })),
    );
  };

  beforeAll(async () => {
    box = await sandbox('alerting_api');
    webhook = await HttpReceiver.start();
    codec = await EventCodec.register(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.telemetry,
      box.topics.telemetry,
    );
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 5, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    const dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-api-'));
    writeFileSync(
      join(dir, 'sentio.yaml'),
      stringify({
        alerting: {
          receivers: [
            {
              name: 'hook',
              webhook: [{ url: `${webhook.url}/hook`, secret: 'a webhook secret for the API test' }],
            },
          ],
          route: {
            receiver: 'hook',
            groupBy: ['alertname', 'device'],
            groupWait: '500ms',
            groupInterval: '1s',
            repeatInterval: '1h',
          },
        },
      }),
    );
    platform = await PlatformProcess.start(
      // ingest projects the alerts topic into the `alerts` table, where the API reads alert history.
      'alerting,api,ingest',
      {
        ...box.env,
        SENTIO_CONFIG_FILE: join(dir, 'sentio.yaml'),
        ALERTING_GROUP_ID: `alerting-${box.namespace}`,
        ALERTING_IDLE_ADVANCE_MS: '600000',
        INGEST_FLUSH_INTERVAL_MS: '200',
        SENTIO_ADMIN_USER: 'admin',
        SENTIO_ADMIN_PASSWORD: 'a long enough admin passphrase',
      },
      'alerting-dispatcher',
      // alerting, api and ingest compile and start together: slow on a loaded machine.
      180_000,
    );
    admin = await login('admin', 'a long enough admin passphrase');
    expect(
      (
        await call(admin, 'POST', '/api/users', {
          username: 'watcher',
          password: 'a long viewer passphrase',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    viewer = await login('watcher', 'a long viewer passphrase');
  });

  afterAll(async () => {
    await platform?.stop();
    await producer?.disconnect();
    await webhook?.stop();
  });

  const rule = {
    id: 'api-hot',
    name: 'API hot',
    condition: {
      kind: 'threshold',
      metric: 'temperature',
      aggregation: 'last',
      window: '5s',
      op: '>',
      threshold: 80,
    },
    selector: { site: 'north' },
    severity: 'major',
  };

  it('refuses a bad rule naming the field, and a viewer changing rules', async () => {
    const bad = await call(admin, 'POST', '/api/alerting/rules', {
      ...rule,
      condition: { ...rule.condition, threshold: 'hot' },
      for: 'soon',
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body!['message'])).toMatch(/condition\.threshold: .*number/);
    expect((bad.body!['problems'] as Array<{ field: string }>).map((p) => p.field)).toEqual(
      expect.arrayContaining(['condition.threshold', 'for']),
    );
    expect((await call(viewer, 'POST', '/api/alerting/rules', rule)).status).toBe(403);
  });

  it('creates a rule; its alert fires, is listed, acknowledged with a comment and an assignee', async () => {
    const created = await call(admin, 'POST', '/api/alerting/rules', rule);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ruleId: 'api-hot',
      revision: 1,
      kind: 'THRESHOLD',
      source: 'API',
      updatedBy: 'admin',
    });
    expect((await call(admin, 'POST', '/api/alerting/rules', rule)).status).toBe(409);
    expect(
      ((await call(viewer, 'GET', '/api/alerting/rules')).body as unknown as Array<{ ruleId: string }>).map(
        (r) => r.ruleId,
      ),
    ).toEqual(['api-hot']);
    await hot('pump-0001', 0, 10, 100);
    await until('firing notification', () => webhook.json<Hook>().find((h) => h.status === 'firing'));
    const alerts = await until('alert listed', async () => {
      const list = (await call(viewer, 'GET', '/api/alerting/alerts')).body as unknown as Array<{
        alertId: string;
        status: string;
        deviceId: string;
      }>;
      return list.find((a) => a.deviceId === 'pump-0001' && a.status === 'FIRING') ? list : undefined;
    });
    const alertId = alerts.find((a) => a.deviceId === 'pump-0001')!.alertId;
    expect(
      (await call(viewer, 'POST', `/api/alerting/alerts/${alertId}/ack`, { comment: 'looking' })).status,
    ).toBe(403);
    const ack = await call(admin, 'POST', `/api/alerting/alerts/${alertId}/ack`, {
      comment: 'replacing the bearing',
      assignee: 'maria',
    });
    expect(ack.status).toBe(200);
    const listed = await until('ack visible', async () => {
      const list = (await call(viewer, 'GET', '/api/alerting/alerts')).body as unknown as Array<{
        alertId: string;
        assignee: string | null;
        comment: string | null;
        status: string;
      }>;
      const a = list.find((x) => x.alertId === alertId);
      return a?.assignee === 'maria' ? a : undefined;
    });
    expect(listed).toMatchObject({ status: 'FIRING', comment: 'replacing the bearing' });
    const history = (await call(viewer, 'GET', `/api/alerting/alerts/${alertId}/history`))
      .body as unknown as Array<{ status: string }>;
    expect(history.map((h) => h.status)).toEqual(['FIRING', 'ACKNOWLEDGED']);
  });

  it('a silence mutes a matching alert; delivery attempts are listed', async () => {
    const silence = await call(admin, 'POST', '/api/alerting/silences', {
      matchers: ['device="pump-0002"'],
      duration: '10m',
      comment: 'maintenance on pump 2',
    });
    expect(silence.status).toBe(201);
    const bad = await call(admin, 'POST', '/api/alerting/silences', {
      matchers: ['device~~"x"'],
      duration: '10m',
      comment: 'x',
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body!['message'])).toMatch(/matchers\[0\]/);
    await new Promise((r) => setTimeout(r, 1500)); // the dispatcher reads the silence from its topic
    await hot('pump-0002', 0, 10, 100);
    await until('silenced alert firing', async () => {
      const list = (await call(viewer, 'GET', '/api/alerting/alerts')).body as unknown as Array<{
        deviceId: string;
        status: string;
      }>;
      return list.some((a) => a.deviceId === 'pump-0002' && a.status === 'FIRING') ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 3000)); // group wait and intervals pass
    expect(webhook.json<Hook>().flatMap((h) => h.alerts.map((a) => a.labels['device']))).not.toContain(
      'pump-0002',
    );
    const deliveries = (await call(viewer, 'GET', '/api/alerting/deliveries')).body as unknown as Array<{
      receiver: string;
      ok: boolean;
      idempotencyKey: string;
    }>;
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    expect(deliveries[0]).toMatchObject({ receiver: 'hook', ok: true });
  });

  it('receivers and routes are readable by an admin, secrets masked', async () => {
    expect((await call(viewer, 'GET', '/api/alerting/receivers')).status).toBe(403);
    expect((await call(viewer, 'GET', '/api/alerting/routes')).status).toBe(403);
    const receivers = await call(admin, 'GET', '/api/alerting/receivers');
    expect(receivers.status).toBe(200);
    expect(receivers.body).toEqual([
      {
        name: 'hook',
        integrations: [
          {
            name: 'hook/webhook[0]',
            type: 'webhook',
            settings: { url: `${webhook.url}/hook`, secret: '***' },
          },
        ],
      },
    ]);
    const routes = await call(admin, 'GET', '/api/alerting/routes');
    expect(routes.body).toMatchObject({
      route: {
        receiver: 'hook',
        groupBy: ['alertname', 'device'],
        groupWait: '500ms',
        groupInterval: '1s',
        repeatInterval: '1h',
      },
      inhibitRules: [],
      sendResolvedWhenSilenced: true,
    });
  });

  it('pausing a rule resolves its alerts; GraphQL lists and deletes; every change is in the audit trail', async () => {
    const paused = await call(admin, 'POST', '/api/alerting/rules/api-hot/pause');
    expect(paused.body).toMatchObject({ paused: true, revision: 2 });
    await until('resolved notification', () => webhook.json<Hook>().find((h) => h.status === 'resolved'));
    const listed = await gql(viewer, '{ alertRules { id paused revision } }');
    expect(listed.data!['alertRules']).toEqual([{ id: 'api-hot', paused: true, revision: 2 }]);
    expect(
      (await gql(viewer, 'mutation { deleteAlertRule(id: "api-hot") { id } }')).errors?.[0]?.message,
    ).toMatch(/role/);
    const deleted = await gql(admin, 'mutation { deleteAlertRule(id: "api-hot") { id revision } }');
    expect(deleted.data!['deleteAlertRule']).toEqual({ id: 'api-hot', revision: 3 });
    expect((await call(viewer, 'GET', '/api/alerting/rules')).body).toEqual([]);
    const audit = (await call(admin, 'GET', '/api/audit')).body as unknown as Array<{
      action: string;
      target: string;
      actor: string;
    }>;
    const actions = audit.filter((a) => a.action.startsWith('alerting.')).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'alerting.rule.create',
        'alerting.alert.acknowledge',
        'alerting.silence.create',
        'alerting.rule.pause',
        'alerting.rule.delete',
      ]),
    );
  });
  it('alert history comes from the alerts table: months old, more than the view keeps, filtered and paged', async () => {
    // A plant's past: 250 transitions of one alert 90 days ago (the API process keeps the last 200 per alert
    // in memory), 5 of another on another device and rule, written to the alerts topic like the evaluator does.
    const alertCodec = await EventCodec.register(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.alerts,
      box.topics.alerts,
    );
    const past = Date.now() - 90 * 86_400_000;
    const event = (
      alertId: string,
      seq: number,
      device: string,
      ruleId: string,
      minor: boolean,
    ): AlertEvent => ({
      eventId: `${alertId}:${seq}`,
      alertId,
      timestampMs: past + seq * 60_000 + (minor ? 30_000 : 0),
      state: seq % 2 ? 'FIRING' : 'RESOLVED',
      severity: minor ? 'WARNING' : 'CRITICAL',
      origin: 'RULE',
      ruleId,
      deviceId: device,
      title: `${ruleId} on ${device}`,
      description: `transition ${seq}`,
      labels: { alertname: ruleId, device, site: 'north' },
      status: seq % 2 ? 'FIRING' : 'RESOLVED',
      previousStatus: seq % 2 ? 'PENDING' : 'FIRING',
      level: minor ? 'MINOR' : 'MAJOR',
      severityReason: 'base',
      sequence: seq,
      value: 80 + seq,
      flapping: false,
      ruleName: ruleId,
      annotations: {},
      actor: null,
      assignee: null,
      comment: null,
    });
    const events = [
      ...Array.from({ length: 250 }, (_, i) => event('plant-old', i + 1, 'pump-0100', 'legacy', false)),
      ...Array.from({ length: 5 }, (_, i) => event('plant-old-2', i + 1, 'pump-0101', 'legacy-2', true)),
    ];
    await producer.send(
      box.topics.alerts,
      events.map((e) => ({ key: eventStreams.alerts.key(e), value: alertCodec.encode(e) })),
    );
    const history = await until('250 transitions in the history', async () => {
      const res = await call(viewer, 'GET', '/api/alerting/alerts/plant-old/history');
      const list = res.body as unknown as AlertEvent[] | undefined;
      return res.status === 200 && list?.length === 250 ? list : undefined;
    });
    expect(history.map((h) => h.sequence)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(history[0]).toMatchObject({
      eventId: 'plant-old:1',
      timestampMs: past + 60_000,
      status: 'FIRING',
      level: 'MAJOR',
      deviceId: 'pump-0100',
      value: 81,
      labels: { alertname: 'legacy', device: 'pump-0100', site: 'north' },
    });
    const newest3 = (await call(viewer, 'GET', '/api/alerting/alerts/plant-old/history?limit=3'))
      .body as unknown as AlertEvent[];
    expect(newest3.map((h) => h.sequence)).toEqual([248, 249, 250]);
    expect((await call(viewer, 'GET', '/api/alerting/alerts/no-such-alert/history')).status).toBe(404);

    // The list: firing transitions of one device, in pages of 50, newest first, each once.
    type Page = { alerts: AlertEvent[]; next: string | null };
    const firing: AlertEvent[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs = new URLSearchParams({ device: 'pump-0100', state: 'firing', limit: '50' });
      if (cursor) qs.set('cursor', cursor);
      const page = (await call(viewer, 'GET', `/api/alerting/history?${qs}`)).body as unknown as Page;
      firing.push(...page.alerts);
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(firing.map((a) => a.sequence)).toEqual(Array.from({ length: 125 }, (_, i) => 249 - 2 * i));
    expect(firing.every((a) => a.status === 'FIRING' && a.deviceId === 'pump-0100')).toBe(true);

    const minor = (await call(viewer, 'GET', '/api/alerting/history?severity=minor,critical&rule=legacy-2'))
      .body as unknown as Page;
    expect(minor.alerts.map((a) => a.eventId)).toEqual([5, 4, 3, 2, 1].map((i) => `plant-old-2:${i}`));
    expect(minor.next).toBeNull();
    const from = new Date(past + 3 * 60_000).toISOString();
    const to = new Date(past + 5 * 60_000).toISOString();
    const window = (await call(viewer, 'GET', `/api/alerting/history?from=${from}&to=${to}`))
      .body as unknown as Page;
    expect(window.alerts.map((a) => a.eventId)).toEqual([
      'plant-old-2:4',
      'plant-old:4',
      'plant-old-2:3',
      'plant-old:3',
    ]);
    const bad = await call(viewer, 'GET', '/api/alerting/history?state=burning');
    expect(bad.status).toBe(400);
    expect(String(bad.body!['message'])).toMatch(/^state: unknown BURNING/);

    // The live alert of the first test reached the table too: fired, acknowledged, resolved by the pause.
    const live = await until('live alert in the table', async () => {
      const page = (await call(viewer, 'GET', '/api/alerting/history?rule=api-hot&device=pump-0001'))
        .body as unknown as Page;
      return page.alerts.some((a) => a.status === 'RESOLVED') ? page.alerts : undefined;
    });
    expect(live.map((a) => a.status)).toEqual(expect.arrayContaining(['FIRING', 'ACKNOWLEDGED', 'RESOLVED']));

    const transitions = (
      await gql(
        viewer,
        '{ alertTransitions(ruleId: "legacy-2", limit: 2) { alerts { eventId status severity } next } }',
      )
    ).data!['alertTransitions'] as { alerts: unknown[]; next: string | null };
    expect(transitions.alerts).toEqual([
      { eventId: 'plant-old-2:5', status: 'FIRING', severity: 'MINOR' },
      { eventId: 'plant-old-2:4', status: 'RESOLVED', severity: 'MINOR' },
    ]);
    expect(transitions.next).toEqual(expect.any(String));
  });
});
