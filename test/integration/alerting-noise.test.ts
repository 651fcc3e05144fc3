import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type AlertEvent, type TelemetrySample } from '@sentio/events';
import { EventProducer } from '@sentio/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { HttpReceiver, SmtpPeer, type ReceivedRequest } from '../../tools/peers/alerting-peers.js';
import { alertEvents, ApiClient, sleep, until, type WebhookBody } from './alerting-support.js';
import { logger, sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';

/**
 * Noise control end to end through the real broker: the `alerting` and `api` targets in one process,
 * rules provisioned from YAML, telemetry produced to Kafka, notifications read from what a real HTTP
 * receiver and a real SMTP server (aiosmtpd) received, and the alert history from the alerts topic and the
 * API. Grouping timers (group_wait, group_interval, repeat_interval) and silences run on the wall clock, as
 * in Alertmanager; the rules evaluate in event time, which here follows the wall clock (plus jumps).
 */
const PASSWORD = 'a long enough admin passphrase';

// Each scenario has its own rule (so its own group) and devices; the rules' `scenario` label picks its route.
const hot = (id: string, name: string, scenario: string, devices: string[], extra: object = {}) => ({
  id,
  name,
  condition: {
    kind: 'threshold',
    metric: 'temperature',
    aggregation: 'last',
    window: '10m',
    op: '>',
    threshold: 80,
    clearThreshold: 70,
  },
  selector: { devices },
  severity: 'major',
  labels: { scenario, scope: 'metric' },
  annotations: { summary: '{{device}} at {{value}} (limit {{threshold}})' },
  ...extra,
});

describe('alerting noise control end to end', () => {
  let box: Sandbox;
  let webhook: HttpReceiver;
  let smtp: SmtpPeer;
  let platform: PlatformProcess | undefined;
  let producer: EventProducer;
  let codec: EventCodec<TelemetrySample>;
  let api: ApiClient;
  // Event time: the wall clock plus the jumps a scenario makes (cooldown), never going back.
  let offset = 0;
  let seq = 0;
  const et = () => Date.now() + offset;

  const send = (
    rows: Array<[device: string, metric: string, value: number, labels?: Record<string, string>]>,
  ) => {
    const ts = et();
    return producer.send(
      box.topics.telemetry,
      rows.map(([deviceId, metric, value, labels]) => {
        const s: TelemetrySample = {
          eventId: `noise-${seq++}`,
          deviceId,
          timestampMs: ts,
          metric,
          value,
          unit: null,
          quality: 'GOOD',
          labels: labels ?? { site: 'west' },
          source: 'test',
        };
        return { key: deviceId, value: codec.encode(s) };
      }),
    );
  };
  const hooks = (alertname: string): Array<WebhookBody & { at: number }> =>
    webhook.requests
      .filter((r: ReceivedRequest) => r.path === '/ops')
      .map((r) => ({ ...(JSON.parse(r.body) as WebhookBody), at: r.at }))
      .filter((b) => b.groupLabels['alertname'] === alertname);
  const devicesOf = (b: WebhookBody, status = 'firing') =>
    b.alerts
      .filter((a) => a.status === status)
      .map((a) => a.labels['device'])
      .sort();
  const eventsOf = async (ruleId: string): Promise<AlertEvent[]> =>
    (await alertEvents(box)).filter((e) => e.ruleId === ruleId);
  const transitions = (events: AlertEvent[], device: string) =>
    events.filter((e) => e.deviceId === device).map((e) => `${e.previousStatus}>${e.status}`);

  beforeAll(async () => {
    box = await sandbox('alerting_noise');
    [webhook, smtp] = await Promise.all([HttpReceiver.start(), SmtpPeer.start()]);
    codec = await EventCodec.register(
      AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!),
      eventStreams.telemetry,
      box.topics.telemetry,
    );
    producer = new EventProducer(
      box.kafka,
      { lingerMs: 2, batchSize: 10_000, batchBytes: 900_000, compression: 'none' },
      logger,
    );
    await producer.connect();
    const dir = mkdtempSync(join(tmpdir(), 'sentio-alerting-noise-'));
    writeFileSync(
      join(dir, 'rules.yaml'),
      stringify({
        rules: [
          hot('grp-hot', 'Grouped hot', 'grouping', ['g-1', 'g-2', 'g-3']),
          hot('cool-hot', 'Cooldown hot', 'cooldown', ['c-1'], { cooldown: '60s' }),
          hot('flap-hot', 'Flapping hot', 'flapping', ['f-1'], {
            flapping: { window: '10m', maxTransitions: 4 },
          }),
          hot('sil-hot', 'Silenced hot', 'silence', ['s-1', 's-2', 's-3', 's-4', 's-5']),
          hot('ack-hot', 'Acknowledged hot', 'ack', ['a-1']),
          {
            id: 'inh-offline',
            name: 'Device offline',
            condition: { kind: 'nodata', metric: 'heartbeat', silentFor: '5s' },
            selector: { devices: ['i-1', 'i-2'] },
            severity: 'major',
            labels: { scenario: 'inhibition', scope: 'device' },
          },
          {
            id: 'inh-site',
            name: 'Site power lost',
            condition: {
              kind: 'threshold',
              metric: 'site_power',
              aggregation: 'last',
              window: '10m',
              op: '<',
              threshold: 1,
            },
            selector: { devices: ['meter-east'] },
            severity: 'critical',
            labels: { scenario: 'inhibition', scope: 'site' },
          },
          {
            ...hot('inh-vib', 'Vibration high', 'inhibition', ['i-1', 'i-2', 'e-1']),
            condition: {
              kind: 'threshold',
              metric: 'vibration',
              aggregation: 'last',
              window: '10m',
              op: '>',
              threshold: 10,
            },
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
              webhook: [{ url: `${webhook.url}/ops` }],
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
            },
          ],
          route: {
            receiver: 'ops',
            groupBy: ['alertname'],
            groupWait: '1s',
            groupInterval: '2s',
            repeatInterval: '1h',
            routes: [
              {
                matchers: ['scenario="grouping"'],
                groupWait: '3s',
                groupInterval: '6s',
                repeatInterval: '15s',
              },
              { matchers: ['scenario="ack"'], repeatInterval: '5s' },
            ],
          },
          inhibitRules: [
            // A device offline inhibits that device's metric alerts ...
            {
              sourceMatchers: ['alertname="Device offline"'],
              targetMatchers: ['scope="metric"'],
              equal: ['device'],
            },
            // ... and a site-wide alert its devices' alerts.
            { sourceMatchers: ['scope="site"'], targetMatchers: ['scope="metric"'], equal: ['site'] },
          ],
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
    await platform?.stop();
    await producer?.disconnect();
    await Promise.all([webhook?.stop(), smtp?.stop()]);
  });

  it('groups alerts: group_wait gathers the first ones, group_interval adds a new one, repeat_interval repeats unchanged', async () => {
    const started = Date.now();
    await send([['g-1', 'temperature', 95]]);
    await sleep(800);
    await send([['g-2', 'temperature', 96]]);
    const first = await until('first grouped notification', () => hooks('Grouped hot')[0]);
    // group_wait (3 s) held the first alert until the second one joined it: one notification for both.
    expect(devicesOf(first)).toEqual(['g-1', 'g-2']);
    expect(first.at - started).toBeGreaterThanOrEqual(2900);
    await send([['g-3', 'temperature', 97]]);
    const second = await until('group_interval notification', () => hooks('Grouped hot')[1]);
    expect(devicesOf(second)).toEqual(['g-1', 'g-2', 'g-3']);
    // Timers tick on the flush's start, arrivals come a little later: a second of slack, well apart from
    // the 3 s group_wait a fresh group would have used.
    expect(second.at - first.at).toBeGreaterThanOrEqual(5000);
    // Unchanged: the next flushes (every 6 s) send nothing until repeat_interval (15 s) has passed.
    const repeat = await until('repeat notification', () => hooks('Grouped hot')[2], 60_000);
    expect(devicesOf(repeat)).toEqual(['g-1', 'g-2', 'g-3']);
    expect(repeat.at - second.at).toBeGreaterThanOrEqual(14_000);
    expect(hooks('Grouped hot')).toHaveLength(3);
    const mails = await until('three grouped emails', () => {
      const m = smtp.messages().filter((x) => /Subject: \[FIRING:\d\] alertname=Grouped hot/.test(x));
      return m.length >= 3 ? m : undefined;
    });
    expect(mails.map((m) => /Subject: \[FIRING:(\d)\]/.exec(m)![1])).toEqual(['2', '3', '3']);
  });

  it('cooldown: a rule and device that just resolved may not fire again until the cooldown has passed', async () => {
    await send([['c-1', 'temperature', 95]]);
    await until('cooldown firing', () => hooks('Cooldown hot').find((h) => h.status === 'firing'));
    await send([['c-1', 'temperature', 50]]);
    await until('cooldown resolved', () => hooks('Cooldown hot').find((h) => h.status === 'resolved'));
    // Hot again 5 s later (event time): pending, not firing, for the rest of the 60 s cooldown.
    offset += 5000;
    await send([['c-1', 'temperature', 95]]);
    offset += 5000;
    await send([['c-1', 'temperature', 96]]);
    await until('pending in cooldown', async () =>
      transitions(await eventsOf('cool-hot'), 'c-1').includes('RESOLVED>PENDING'),
    );
    await sleep(3000);
    expect(hooks('Cooldown hot').map((h) => h.status)).toEqual(['firing', 'resolved']);
    // Once the cooldown is over, it fires (and is notified) again.
    offset += 55_000;
    await send([['c-1', 'temperature', 97]]);
    await until('firing after cooldown', () => hooks('Cooldown hot')[2]);
    const events = await eventsOf('cool-hot');
    expect(transitions(events, 'c-1')).toEqual([
      'INACTIVE>FIRING',
      'FIRING>RESOLVED',
      'RESOLVED>PENDING',
      'PENDING>FIRING',
    ]);
    expect(events[3]!.timestampMs - events[1]!.timestampMs).toBeGreaterThanOrEqual(60_000);
    expect(hooks('Cooldown hot').map((h) => h.status)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('flapping: too many transitions in the window mark the alert flapping and hold its notifications', async () => {
    for (const [value, status] of [
      [95, 'firing'],
      [50, 'resolved'],
      [95, 'firing'],
    ] as const) {
      const before = hooks('Flapping hot').length;
      await send([['f-1', 'temperature', value]]);
      await until(`flapping ${status}`, () => hooks('Flapping hot')[before]);
      expect(hooks('Flapping hot')[before]!.status).toBe(status);
    }
    // Fourth transition: flapping from now on; it fires again, but no one is told.
    await send([['f-1', 'temperature', 50]]);
    await until('resolved (4th transition)', () => hooks('Flapping hot')[3]);
    await send([['f-1', 'temperature', 95]]);
    const events = await until('flapping firing event', async () => {
      const list = await eventsOf('flap-hot');
      return list.length >= 5 ? list : undefined;
    });
    expect(events.map((e) => [e.status, e.flapping])).toEqual([
      ['FIRING', false],
      ['RESOLVED', false],
      ['FIRING', false],
      ['RESOLVED', true],
      ['FIRING', true],
    ]);
    await sleep(5000); // group_wait 1 s, group_interval 2 s: two flushes at least
    expect(hooks('Flapping hot').map((h) => h.status)).toEqual(['firing', 'resolved', 'firing', 'resolved']);
    const listed =
      await api.get<Array<{ deviceId: string; status: string; flapping: boolean }>>('/api/alerting/alerts');
    expect(listed.find((a) => a.deviceId === 'f-1')).toMatchObject({ status: 'FIRING', flapping: true });
  });

  it('silences: label matchers, start and end, a recurring maintenance window; resolved still sent for a silenced alert', async () => {
    // s-5 fires and is notified before any silence.
    await send([['s-5', 'temperature', 95]]);
    await until('s-5 notified', () => hooks('Silenced hot').find((h) => devicesOf(h).includes('s-5')));
    const now = Date.now();
    const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
    const silences = [
      // In force now, two matchers (both must match).
      { matchers: ['device="s-1"', 'alertname="Silenced hot"'], duration: '10m', comment: 's-1 replaced' },
      // Matches s-2, but starts in an hour.
      {
        matchers: ['device="s-2"'],
        startsAt: new Date(now + 3_600_000).toISOString(),
        duration: '1h',
        comment: 'later',
      },
      // Recurring maintenance window open now: every day from a minute ago, for 30 minutes.
      {
        matchers: ['device=~"s-3|s-5"'],
        duration: '7d',
        comment: 'daily maintenance',
        recurring: { weekdays: [0, 1, 2, 3, 4, 5, 6], start: hhmm(now - 60_000), duration: '30m' },
      },
      // Recurring window that is not open now (it starts in two hours).
      {
        matchers: ['device="s-4"'],
        duration: '7d',
        comment: 'nightly maintenance',
        recurring: { weekdays: [0, 1, 2, 3, 4, 5, 6], start: hhmm(now + 2 * 3_600_000), duration: '30m' },
      },
    ];
    const ids: string[] = [];
    for (const s of silences) {
      const res = await api.call<{ id: string }>('POST', '/api/alerting/silences', s);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id);
    }
    await sleep(2000); // the dispatcher reads the silences from their topic
    await send([
      ['s-1', 'temperature', 95],
      ['s-2', 'temperature', 95],
      ['s-3', 'temperature', 95],
      ['s-4', 'temperature', 95],
    ]);
    await until('s-2 and s-4 notified', () => {
      const seen = new Set(hooks('Silenced hot').flatMap((h) => devicesOf(h)));
      return seen.has('s-2') && seen.has('s-4');
    });
    await until('s-1 and s-3 firing', async () => {
      const list = await api.get<Array<{ deviceId: string; status: string }>>('/api/alerting/alerts');
      return ['s-1', 's-3'].every((d) => list.some((a) => a.deviceId === d && a.status === 'FIRING'));
    });
    // s-5 is in the maintenance window now: muted from the flush after the silence on.
    const sinceSilence = hooks('Silenced hot').filter((h) => devicesOf(h).includes('s-2'));
    expect(sinceSilence.flatMap((h) => devicesOf(h)).filter((d) => d !== 's-2' && d !== 's-4')).toEqual([]);
    // s-5, notified firing before, ends while silenced: the resolved notification is still sent.
    await send([['s-5', 'temperature', 50]]);
    const resolved = await until('s-5 resolved while silenced', () =>
      hooks('Silenced hot').find((h) => devicesOf(h, 'resolved').includes('s-5')),
    );
    expect(devicesOf(resolved)).toEqual(['s-2', 's-4']);
    await sleep(3000);
    const seen = new Set(hooks('Silenced hot').flatMap((h) => devicesOf(h)));
    expect([...seen].sort()).toEqual(['s-2', 's-4', 's-5']);
    // Expiring the first silence: s-1, still firing, is notified at the next flush.
    expect((await api.call('DELETE', `/api/alerting/silences/${ids[0]}`)).status).toBe(200);
    const unsilenced = await until('s-1 notified once unsilenced', () =>
      hooks('Silenced hot').find((h) => devicesOf(h).includes('s-1')),
    );
    expect(devicesOf(unsilenced)).toEqual(['s-1', 's-2', 's-4']);
    const history = await eventsOf('sil-hot');
    expect(
      history
        .filter((e) => e.status === 'FIRING')
        .map((e) => e.deviceId)
        .sort(),
    ).toEqual(['s-1', 's-2', 's-3', 's-4', 's-5']);
  });

  it('inhibition: a device offline inhibits its metric alerts, a site-wide alert its site devices', async () => {
    const west = { site: 'west' };
    const east = { site: 'east' };
    // i-1 and i-2 send heartbeats and calm vibration; then i-1's heartbeat stops: offline.
    await send([
      ['i-1', 'heartbeat', 1, west],
      ['i-2', 'heartbeat', 1, west],
      ['i-1', 'vibration', 2, west],
      ['i-2', 'vibration', 2, west],
      ['e-1', 'vibration', 2, east],
      ['meter-east', 'site_power', 50, east],
    ]);
    // i-2's heartbeat goes on all along (every second); i-1 only sends vibration from now on.
    const beat = setInterval(() => void send([['i-2', 'heartbeat', 1, west]]), 1000);
    try {
      for (let i = 0; i < 8; i++) {
        await sleep(1000);
        await send([
          ['i-1', 'vibration', 2, west],
          ['i-2', 'vibration', 2, west],
        ]);
      }
      const offline = await until('device offline notified', () =>
        hooks('Device offline').find((h) => h.status === 'firing'),
      );
      expect(devicesOf(offline)).toEqual(['i-1']);
      // The east site loses power: a site-wide alert.
      await send([['meter-east', 'site_power', 0, east]]);
      await until('site alert notified', () => hooks('Site power lost').find((h) => h.status === 'firing'));
      // All three vibrate too much: only i-2 (online, in the west) is notified.
      await send([
        ['i-1', 'vibration', 30, west],
        ['i-2', 'vibration', 30, west],
        ['e-1', 'vibration', 30, east],
      ]);
      const vib = await until('vibration notified', () => hooks('Vibration high')[0]);
      expect(devicesOf(vib)).toEqual(['i-2']);
      const events = await eventsOf('inh-vib');
      expect(
        events
          .filter((e) => e.status === 'FIRING')
          .map((e) => e.deviceId)
          .sort(),
      ).toEqual(['e-1', 'i-1', 'i-2']);
      await sleep(4000);
      expect(new Set(hooks('Vibration high').flatMap((h) => devicesOf(h)))).toEqual(new Set(['i-2']));
      // Power back in the east: the site alert resolves and e-1's vibration alert is no longer inhibited.
      await send([['meter-east', 'site_power', 50, east]]);
      const released = await until('e-1 notified once the site alert ended', () =>
        hooks('Vibration high').find((h) => devicesOf(h).includes('e-1')),
      );
      expect(devicesOf(released)).toEqual(['e-1', 'i-2']);
      const offlineEvents = await eventsOf('inh-offline');
      expect(offlineEvents.map((e) => `${e.deviceId} ${e.status}`)).toEqual(['i-1 FIRING']);
    } finally {
      clearInterval(beat);
    }
  });

  it('acknowledge with a comment and an assignee holds repeats; the resolved notification still goes out', async () => {
    await send([['a-1', 'temperature', 95]]);
    const first = await until('ack firing', () => hooks('Acknowledged hot')[0]);
    // Unacknowledged, it repeats every 5 s.
    const repeat = await until('ack repeat', () => hooks('Acknowledged hot')[1], 30_000);
    expect(repeat.at - first.at).toBeGreaterThanOrEqual(4000);
    const alert = (await api.get<Array<{ alertId: string; deviceId: string }>>('/api/alerting/alerts')).find(
      (a) => a.deviceId === 'a-1',
    )!;
    const ack = await api.call('POST', `/api/alerting/alerts/${alert.alertId}/ack`, {
      comment: 'bearing ordered',
      assignee: 'maria',
    });
    expect(ack.status).toBe(200);
    const ackedAt = Date.now();
    await sleep(12_000);
    const afterAck = hooks('Acknowledged hot').filter((h) => h.at > ackedAt + 1000);
    expect(afterAck).toEqual([]);
    await send([['a-1', 'temperature', 40]]);
    const resolved = await until('ack resolved', () =>
      hooks('Acknowledged hot').find((h) => h.status === 'resolved'),
    );
    expect(devicesOf(resolved, 'resolved')).toEqual(['a-1']);
    const history = await until('history with resolution', async () => {
      const h = await api.get<
        Array<{ status: string; comment: string | null; assignee: string | null; actor: string | null }>
      >(`/api/alerting/alerts/${alert.alertId}/history`);
      return h.some((e) => e.status === 'RESOLVED') ? h : undefined;
    });
    expect(history.map((e) => e.status)).toEqual(['FIRING', 'ACKNOWLEDGED', 'RESOLVED']);
    expect(history[1]).toMatchObject({ comment: 'bearing ordered', assignee: 'maria', actor: 'admin' });
    await until('resolved email', () =>
      smtp.messages().find((m) => /Subject: \[RESOLVED\] alertname=Acknowledged hot/.test(m)),
    );
  });
});
