import type { AlertEvent, AlertLevel, AlertStatus } from '@sentio/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { columnMap } from '../column-map.util.js';
import { AlertsQueryRepository, type AlertTransitionRow } from './alerts-query.repository.js';
import { AlertsRepository } from './alerts.repository.js';
import { openSpecStore } from './spec-store.util.js';

const T0 = Date.UTC(2026, 7, 1, 6, 0, 0); // months before the rest: history is not only the recent part
const MINUTE = 60_000;

function transition(
  alertId: string,
  sequence: number,
  status: AlertStatus,
  at: number,
  extra: Partial<AlertEvent> = {},
): AlertEvent {
  const level: AlertLevel = extra.level ?? 'MAJOR';
  return {
    eventId: `${alertId}:${sequence}`,
    alertId,
    timestampMs: at,
    state: status === 'FIRING' ? 'FIRING' : status === 'ACKNOWLEDGED' ? 'ACKNOWLEDGED' : 'RESOLVED',
    severity: level === 'MAJOR' || level === 'CRITICAL' ? 'CRITICAL' : 'WARNING',
    origin: 'RULE',
    ruleId: 'hot',
    deviceId: 'pump-1',
    title: 'Hot',
    description: `temperature ${sequence}`,
    labels: { site: 'north', device: extra.deviceId ?? 'pump-1' },
    status,
    previousStatus: null,
    level,
    severityReason: 'base major',
    sequence,
    value: 70 + sequence,
    flapping: false,
    ruleName: 'Hot',
    annotations: { summary: 'hot' },
    actor: null,
    assignee: null,
    comment: null,
    ...extra,
  };
}

describe('AlertsQueryRepository on embedded ClickHouse', () => {
  let store: ClickHouseStore;
  let sut: AlertsQueryRepository;
  const ids = (rows: AlertTransitionRow[]) => rows.map((r) => r.event_id);

  beforeAll(async () => {
    store = await openSpecStore('alerts-query-spec');
    const alerts = new AlertsRepository(store);
    // a-1 on pump-1: 300 transitions, one a minute (more than any recent-events window keeps).
    const many = Array.from({ length: 300 }, (_, i) =>
      transition('a-1', i + 1, i % 2 === 0 ? 'FIRING' : 'RESOLVED', T0 + i * MINUTE),
    );
    await alerts.insert(many, 'a-1');
    await alerts.insert(
      [
        transition('a-2', 1, 'PENDING', T0 + 10 * MINUTE + 1, { deviceId: 'pump-2', level: 'MINOR' }),
        transition('a-2', 2, 'FIRING', T0 + 11 * MINUTE + 1, { deviceId: 'pump-2', level: 'CRITICAL' }),
        transition('a-2', 2, 'ACKNOWLEDGED', T0 + 12 * MINUTE + 1, {
          eventId: 'a-2:ack:x',
          deviceId: 'pump-2',
          level: 'CRITICAL',
          actor: 'maria',
          assignee: 'maria',
          comment: 'on it',
        }),
        transition('a-3', 1, 'FIRING', T0 + 20 * MINUTE + 1, { ruleId: 'cold', deviceId: null }),
      ],
      'others',
    );
    // A replay projects a-2's firing again under another token: a second row with the same event id.
    await alerts.insert(
      [transition('a-2', 2, 'FIRING', T0 + 11 * MINUTE + 1, { deviceId: 'pump-2' })],
      'again',
    );
    // A row written before v2 (migration 015): no status nor level; it reads as its state and severity.
    // (v1 columns only, under a token of its own: the embedded engine would reuse the previous one.)
    const v1 = columnMap<{ ts: number; id: string }>({
      ts: (r) => r.ts,
      alert_id: (r) => r.id,
      state: () => 'FIRING',
      severity: () => 'WARNING',
      origin: () => 'ANOMALY',
      rule_id: () => 'window-ae',
      device_id: () => 'pump-1',
      title: () => 'Anomaly',
      description: () => 'old',
      labels: () => ({}),
      event_id: (r) => `${r.id}:old`,
    });
    await store.insert('alerts', v1, [{ ts: T0 - MINUTE, id: 'a-0' }], 'v1');
    sut = new AlertsQueryRepository(store);
  });

  afterAll(async () => {
    await store.close();
  });

  it('lists transitions newest first, each event once even when projected twice', async () => {
    const rows = await sut.transitions({ limit: 1000 });
    expect(rows).toHaveLength(300 + 4 + 1);
    expect(new Set(ids(rows)).size).toBe(rows.length);
    expect(ids(rows).slice(0, 2)).toEqual(['a-1:300', 'a-1:299']);
    expect(ids(rows).at(-1)).toBe('a-0:old');
    const ack = rows.find((r) => r.event_id === 'a-2:ack:x')!;
    expect(ack).toMatchObject({
      status: 'ACKNOWLEDGED',
      level: 'CRITICAL',
      actor: 'maria',
      comment: 'on it',
    });
    expect(Number(ack.ts_ms)).toBe(T0 + 12 * MINUTE + 1);
    const first = rows.find((r) => r.event_id === 'a-1:1')!;
    expect(first).toMatchObject({ value: 71, flapping: false, labels: { site: 'north', device: 'pump-1' } });
    expect(Number(first.sequence)).toBe(1);
  });

  it('filters by status and severity (pre-v2 rows by their state and severity), device, rule and time', async () => {
    const firing = await sut.transitions({ statuses: ['FIRING'], limit: 1000 });
    expect(firing).toHaveLength(150 + 1 + 1 + 1);
    expect(firing.every((r) => r.status === 'FIRING')).toBe(true);
    expect(ids(firing)).toContain('a-0:old');
    expect(ids(await sut.transitions({ levels: ['WARNING'], limit: 10 }))).toEqual(['a-0:old']);
    expect(ids(await sut.transitions({ levels: ['MINOR', 'CRITICAL'], limit: 10 }))).toEqual([
      'a-2:ack:x',
      'a-2:2',
      'a-2:1',
    ]);
    expect(ids(await sut.transitions({ device: 'pump-2', statuses: ['PENDING'], limit: 10 }))).toEqual([
      'a-2:1',
    ]);
    expect(ids(await sut.transitions({ rule: 'cold', limit: 10 }))).toEqual(['a-3:1']);
    const window = await sut.transitions({ fromMs: T0 + 10 * MINUTE, toMs: T0 + 13 * MINUTE, limit: 100 });
    expect(ids(window)).toEqual(['a-2:ack:x', 'a-1:13', 'a-2:2', 'a-1:12', 'a-2:1', 'a-1:11']);
    expect(await sut.transitions({ device: 'pump-9', limit: 10 })).toEqual([]);
  });

  it('pages with a keyset: every transition exactly once, in order', async () => {
    const seen: string[] = [];
    let before: { tsMs: number; eventId: string } | undefined;
    for (;;) {
      const page = await sut.transitions({ device: 'pump-1', limit: 70, before });
      if (!page.length) break;
      seen.push(...ids(page));
      const last = page.at(-1)!;
      before = { tsMs: Number(last.ts_ms), eventId: last.event_id };
    }
    expect(seen).toHaveLength(301);
    expect(new Set(seen).size).toBe(301);
    expect(seen.slice(0, 1).concat(seen.slice(-2))).toEqual(['a-1:300', 'a-1:1', 'a-0:old']);
  });

  it("reads one alert's history oldest first, the newest `limit` when there are more", async () => {
    const all = await sut.history('a-1', 10_000);
    expect(all.map((r) => Number(r.sequence))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(ids(await sut.history('a-1', 3))).toEqual(['a-1:298', 'a-1:299', 'a-1:300']);
    expect((await sut.history('a-2', 10)).map((r) => r.status)).toEqual([
      'PENDING',
      'FIRING',
      'ACKNOWLEDGED',
    ]);
    expect(await sut.history('nope', 10)).toEqual([]);
  });
});
