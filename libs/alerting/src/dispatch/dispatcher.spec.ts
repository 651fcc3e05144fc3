import type { AlertEvent } from '@sentio/events';
import { createLogger } from '@sentio/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNotificationLog, type DeliveryAttempt } from '../notify/notification-log.js';
import type {
  DispatchedAlert,
  NotificationContext,
  Notifier,
  NotifyResult,
} from '../notify/notification.type.js';
import { NotifyPipeline } from '../notify/notify-pipeline.js';
import { Dispatcher } from './dispatcher.js';
import { Inhibitor, type InhibitRuleConfig } from './inhibitor.js';
import { buildRoute, type RouteConfig } from './route-tree.js';
import { Silences, silenceActive } from './silences.js';

const logger = createLogger('test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries an assertion until it holds (timers on a loaded machine run late), at most `ms`. */
async function eventually(assertion: () => void, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(25);
    }
  }
}

/** A receiver integration that records what it was sent (the real ones are tested against real peers). */
class RecordingNotifier implements Notifier {
  readonly type = 'recording';
  readonly sent: Array<{ ctx: NotificationContext; alerts: DispatchedAlert[]; at: number }> = [];
  answer: () => Promise<NotifyResult> = () => Promise.resolve({ ok: true, recoverable: false });
  async notify(ctx: NotificationContext, alerts: DispatchedAlert[]): Promise<NotifyResult> {
    this.sent.push({ ctx, alerts, at: Date.now() });
    return this.answer();
  }
}

let seq = 0;
function event(
  alertId: string,
  status: AlertEvent['status'],
  labels: Record<string, string>,
  extra: Partial<AlertEvent> = {},
): AlertEvent {
  return {
    eventId: `${alertId}:${++seq}`,
    alertId,
    timestampMs: Date.now(),
    state: status === 'FIRING' ? 'FIRING' : 'RESOLVED',
    severity: 'WARNING',
    origin: 'RULE',
    ruleId: labels['rule_id'] ?? 'r',
    deviceId: labels['device'] ?? null,
    title: `${labels['alertname']} on ${labels['device']}`,
    description: '',
    labels,
    status,
    previousStatus: null,
    level: 'WARNING',
    severityReason: '',
    sequence: seq,
    value: null,
    flapping: false,
    ruleName: labels['alertname'] ?? '',
    annotations: {},
    actor: null,
    assignee: null,
    comment: null,
    ...extra,
  };
}

const dispatchers: Dispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers.splice(0)) await d.stop();
});

function setup(
  route: RouteConfig,
  inhibit: InhibitRuleConfig[] = [],
  notifiers = { a: new RecordingNotifier() },
) {
  const log = new MemoryNotificationLog();
  const attempts: DeliveryAttempt[] = [];
  const pipeline = new NotifyPipeline(log, { record: (a) => attempts.push(a) }, logger, Date.now, {
    initialMs: 20,
    maxMs: 100,
  });
  const silences = new Silences();
  const receivers = new Map(
    Object.entries(notifiers).map(([name, n]) => [
      name,
      [{ name: `${name}/recording[0]`, notifier: n, sendResolved: true }],
    ]),
  );
  const dispatcher = new Dispatcher(
    {
      route: buildRoute(route),
      receivers,
      inhibitor: new Inhibitor(inhibit),
      sendResolvedWhenSilenced: true,
    },
    silences,
    pipeline,
    logger,
  );
  dispatcher.startRouting();
  dispatchers.push(dispatcher);
  return { dispatcher, silences, log, attempts, ...notifiers };
}

const fast = {
  receiver: 'a',
  groupBy: ['alertname'],
  groupWait: 50,
  groupInterval: 100,
  repeatInterval: 60_000,
};

describe('dispatcher', () => {
  it('groups alerts by label: one notification after group_wait, changes at group_interval, resolved at the end', async () => {
    const { dispatcher, a } = setup(fast);
    dispatcher.apply(event('f1', 'FIRING', { alertname: 'Hot', device: 'd1' }));
    dispatcher.apply(event('f2', 'FIRING', { alertname: 'Hot', device: 'd2' }));
    dispatcher.apply(event('f3', 'FIRING', { alertname: 'Cold', device: 'd1' }));
    await eventually(() => expect(a.sent).toHaveLength(2));
    expect(
      a.sent.map((s) => [s.ctx.groupLabels['alertname'], s.alerts.map((x) => x.labels['device']).sort()]),
    ).toEqual(
      expect.arrayContaining([
        ['Hot', ['d1', 'd2']],
        ['Cold', ['d1']],
      ]),
    );
    expect(a.sent).toHaveLength(2);
    await sleep(250); // nothing changed: no repeats before repeat_interval
    expect(a.sent).toHaveLength(2);
    dispatcher.apply(event('f1', 'RESOLVED', { alertname: 'Hot', device: 'd1' }));
    await eventually(() => expect(a.sent).toHaveLength(3));
    const last = a.sent.at(-1)!;
    expect(last.alerts.map((x) => [x.labels['device'], x.status])).toEqual([
      ['d1', 'resolved'],
      ['d2', 'firing'],
    ]);
    expect(a.sent).toHaveLength(3);
  });

  it('repeats an unchanged group after repeat_interval, with a new idempotency key', async () => {
    const { dispatcher, a } = setup({ ...fast, repeatInterval: 200 });
    dispatcher.apply(event('r1', 'FIRING', { alertname: 'Hot', device: 'd1' }));
    await eventually(() => expect(a.sent.length).toBeGreaterThanOrEqual(2));
    expect(new Set(a.sent.map((s) => s.ctx.idempotencyKey)).size).toBe(a.sent.length);
  });

  it('routes by matchers to the deepest matching route; continue also goes on to siblings', async () => {
    const b = new RecordingNotifier();
    const c = new RecordingNotifier();
    const { dispatcher, a } = setup(
      {
        ...fast,
        routes: [
          { receiver: 'b', matchers: ['severity=~"critical|major"'], continue: true },
          { receiver: 'c', matchers: ['site="north"'] },
        ],
      },
      [],
      { a: new RecordingNotifier(), b, c } as never,
    );
    dispatcher.apply(
      event('x1', 'FIRING', { alertname: 'Hot', device: 'd1', severity: 'critical', site: 'north' }),
    );
    dispatcher.apply(
      event('x2', 'FIRING', { alertname: 'Cold', device: 'd2', severity: 'info', site: 'south' }),
    );
    await eventually(() =>
      expect(b.sent.length + c.sent.length + (a as RecordingNotifier).sent.length).toBe(3),
    );
    expect(b.sent.flatMap((s) => s.alerts.map((x) => x.fingerprint))).toEqual(['x1']);
    expect(c.sent.flatMap((s) => s.alerts.map((x) => x.fingerprint))).toEqual(['x1']);
    expect((a as RecordingNotifier).sent.flatMap((s) => s.alerts.map((x) => x.fingerprint))).toEqual(['x2']);
  });

  it('a silence mutes matching alerts while in force; its resolution is still sent (configurable)', async () => {
    const { dispatcher, silences, a } = setup(fast);
    silences.upsert({
      id: 's1',
      matchers: ['device="d1"'],
      startsAt: Date.now() - 1000,
      endsAt: Date.now() + 60_000,
      comment: 'maintenance',
      createdBy: 'op',
    });
    dispatcher.apply(event('s-a', 'FIRING', { alertname: 'Hot', device: 'd1' }));
    dispatcher.apply(event('s-b', 'FIRING', { alertname: 'Hot', device: 'd2' }));
    await eventually(() =>
      expect(a.sent.flatMap((s) => s.alerts.map((x) => x.labels['device']))).toEqual(['d2']),
    );
    silences.delete('s1');
    await eventually(() => expect(a.sent).toHaveLength(2));
    expect(
      a.sent
        .at(-1)!
        .alerts.map((x) => x.labels['device'])
        .sort(),
    ).toEqual(['d1', 'd2']);
  });

  it('recurring silences are in force only inside their weekly window', () => {
    const monday10 = Date.UTC(2026, 10, 30, 10, 0); // 2026-11-30 is a Monday
    const s = {
      id: 'r',
      matchers: ['site="north"'],
      startsAt: monday10 - 86_400_000 * 30,
      endsAt: monday10 + 86_400_000 * 30,
      comment: 'weekly maintenance',
      createdBy: 'op',
      recurring: { weekdays: [1], start: '09:00', durationMs: 2 * 3_600_000 },
    };
    expect(silenceActive(s, monday10)).toBe(true);
    expect(silenceActive(s, monday10 + 2 * 3_600_000)).toBe(false);
    expect(silenceActive(s, monday10 + 86_400_000)).toBe(false);
    expect(silenceActive(s, monday10 + 7 * 86_400_000)).toBe(true);
  });

  it('inhibition: a device offline mutes that device’s other alerts; a site-wide alert mutes its devices', async () => {
    const { dispatcher, a } = setup({ ...fast, groupBy: ['...'] }, [
      {
        sourceMatchers: ['alertname="Device offline"'],
        targetMatchers: ['alertname!="Device offline"'],
        equal: ['device'],
      },
      { sourceMatchers: ['scope="site"'], targetMatchers: ['scope!="site"'], equal: ['site'] },
    ]);
    dispatcher.apply(event('off', 'FIRING', { alertname: 'Device offline', device: 'd1', site: 'n' }));
    dispatcher.apply(event('hot1', 'FIRING', { alertname: 'Hot', device: 'd1', site: 'n' }));
    dispatcher.apply(event('hot2', 'FIRING', { alertname: 'Hot', device: 'd2', site: 's' }));
    dispatcher.apply(event('power', 'FIRING', { alertname: 'Power cut', scope: 'site', site: 's' }));
    await eventually(() =>
      expect(a.sent.flatMap((s) => s.alerts.map((x) => x.fingerprint)).sort()).toEqual(['off', 'power']),
    );
    expect(dispatcher.muteReason(dispatcher.alerts.get('hot1')!)).toEqual({ inhibitedBy: 'off' });
  });

  it('holds flapping and acknowledged alerts', async () => {
    const { dispatcher, a } = setup({ ...fast, groupBy: ['...'] });
    dispatcher.apply(event('fl', 'FIRING', { alertname: 'Hot', device: 'd1' }, { flapping: true }));
    dispatcher.apply(event('ak', 'FIRING', { alertname: 'Hot', device: 'd2' }));
    dispatcher.apply(
      event(
        'ak',
        'ACKNOWLEDGED',
        { alertname: 'Hot', device: 'd2' },
        { state: 'ACKNOWLEDGED', actor: 'op', comment: 'on it' },
      ),
    );
    await sleep(300);
    expect(a.sent).toEqual([]);
    expect(dispatcher.muteReason(dispatcher.alerts.get('ak')!)).toEqual({ acknowledged: true });
  });

  it('retries a failing receiver with backoff, records every attempt, and a dead receiver delays no other', async () => {
    const dead = new RecordingNotifier();
    dead.answer = () =>
      new Promise((r) => setTimeout(() => r({ ok: false, recoverable: true, error: 'timeout' }), 30));
    const flaky = new RecordingNotifier();
    let calls = 0;
    flaky.answer = () =>
      Promise.resolve(
        ++calls < 3
          ? { ok: false, recoverable: true, error: 'HTTP 503', status: 503 }
          : { ok: true, recoverable: false },
      );
    const healthy = new RecordingNotifier();
    const log = new MemoryNotificationLog();
    const attempts: DeliveryAttempt[] = [];
    const pipeline = new NotifyPipeline(log, { record: (x) => attempts.push(x) }, logger, Date.now, {
      initialMs: 20,
      maxMs: 50,
    });
    const started = Date.now();
    const integrations = [
      { name: 'dead', notifier: dead, sendResolved: true },
      { name: 'flaky', notifier: flaky, sendResolved: true },
      { name: 'healthy', notifier: healthy, sendResolved: true },
    ];
    const alert: DispatchedAlert = {
      fingerprint: 'f',
      seq: 1,
      status: 'firing',
      detailStatus: 'firing',
      labels: { alertname: 'Hot' },
      annotations: {},
      startsAt: 0,
      endsAt: null,
      updatedAt: 0,
      flapping: false,
      title: 't',
      description: 'd',
    };
    const run = pipeline.exec(
      {
        groupKey: 'g',
        receiver: 'r',
        groupLabels: {},
        repeatInterval: 60_000,
        groupInterval: 5_000,
        alerts: [alert],
      },
      integrations,
      new AbortController().signal,
    );
    await eventually(() => expect(healthy.sent.length).toBe(1));
    // At once, long before the dead receiver's retries give up.
    expect(healthy.sent[0]!.at - started).toBeLessThan(1000);
    await run;
    await pipeline.idle();
    expect(attempts.filter((x) => x.integration === 'flaky').map((x) => x.ok)).toEqual([false, false, true]);
    expect(attempts.filter((x) => x.integration === 'dead').length).toBeGreaterThan(3);
    expect(attempts.filter((x) => x.integration === 'dead').at(-1)!.final).toBe(true);
    expect(log.get('g|flaky')).toBeDefined();
    expect(log.get('g|dead')).toBeUndefined();
    // The delivered content is not sent again: the log says so.
    await pipeline.exec(
      {
        groupKey: 'g',
        receiver: 'r',
        groupLabels: {},
        repeatInterval: 60_000,
        groupInterval: 5_000,
        alerts: [alert],
      },
      integrations.slice(1),
      new AbortController().signal,
    );
    expect(healthy.sent.length).toBe(1);
  }, 15_000);

  it('a hanging receiver does not hold the group’s next flush: the others get the newer content', async () => {
    // Never answers; gives up only when aborted (as an HTTP request does).
    const hanging = {
      type: 'hanging',
      sent: [] as NotificationContext[],
      notify(ctx: NotificationContext): Promise<NotifyResult> {
        this.sent.push(ctx);
        return new Promise((resolve) =>
          ctx.signal.addEventListener(
            'abort',
            () => resolve({ ok: false, recoverable: true, error: 'aborted' }),
            { once: true },
          ),
        );
      },
    };
    const healthy = new RecordingNotifier();
    const pipeline = new NotifyPipeline(new MemoryNotificationLog(), { record: () => undefined }, logger);
    const integrations = [
      { name: 'hanging', notifier: hanging, sendResolved: true },
      { name: 'healthy', notifier: healthy, sendResolved: true },
    ];
    const firing = (fingerprint: string): DispatchedAlert => ({
      fingerprint,
      seq: 1,
      status: 'firing',
      detailStatus: 'firing',
      labels: { alertname: 'Hot', device: fingerprint },
      annotations: {},
      startsAt: 0,
      endsAt: null,
      updatedAt: 0,
      flapping: false,
      title: 't',
      description: 'd',
    });
    const abort = new AbortController();
    const flush = (alerts: DispatchedAlert[]) =>
      pipeline.exec(
        { groupKey: 'g', receiver: 'r', groupLabels: {}, repeatInterval: 60_000, groupInterval: 300, alerts },
        integrations,
        abort.signal,
      );
    const started = Date.now();
    await flush([firing('a')]);
    expect(Date.now() - started).toBeLessThan(1000); // not the hanging receiver's deadline (5 s)
    await flush([firing('a'), firing('b')]);
    expect(healthy.sent.map((s) => s.alerts.map((a) => a.fingerprint))).toEqual([['a'], ['a', 'b']]);
    expect(hanging.sent).toHaveLength(1); // still busy with the first: not called again meanwhile
    abort.abort();
    await pipeline.idle();
  });

  it('a resolved alert keeps the labels it fired with (Alertmanager identifies alerts by labels)', () => {
    const { dispatcher } = setup(fast);
    dispatcher.apply(event('x', 'FIRING', { alertname: 'Soon', device: 'p1', severity: 'critical' }));
    dispatcher.apply(event('x', 'RESOLVED', { alertname: 'Soon', device: 'p1', severity: 'minor' }));
    expect(dispatcher.alerts.get('x')).toMatchObject({
      status: 'resolved',
      labels: { alertname: 'Soon', device: 'p1', severity: 'critical' },
    });
  });

  it('a 4xx answer is not retried', async () => {
    const bad = new RecordingNotifier();
    bad.answer = () => Promise.resolve({ ok: false, recoverable: false, error: 'HTTP 400', status: 400 });
    const attempts: DeliveryAttempt[] = [];
    const pipeline = new NotifyPipeline(
      new MemoryNotificationLog(),
      { record: (x) => attempts.push(x) },
      logger,
    );
    const alert: DispatchedAlert = {
      fingerprint: 'f',
      seq: 1,
      status: 'firing',
      detailStatus: 'firing',
      labels: {},
      annotations: {},
      startsAt: 0,
      endsAt: null,
      updatedAt: 0,
      flapping: false,
      title: 't',
      description: 'd',
    };
    await pipeline.exec(
      {
        groupKey: 'g',
        receiver: 'r',
        groupLabels: {},
        repeatInterval: 1,
        groupInterval: 1000,
        alerts: [alert],
      },
      [{ name: 'bad', notifier: bad, sendResolved: true }],
      new AbortController().signal,
    );
    expect(attempts.map((a) => [a.attempt, a.final])).toEqual([[1, true]]);
  });
});
