import { describe, expect, it } from 'vitest';
import { parseRule, RuleValidationError } from '../rules/alert-rule.schema.js';
import { AlertEngine, RuleSet, type AlertTransition } from './alert-engine.js';
import type { EngineInput } from './engine-input.type.js';

const T0 = 1_700_000_000_000;

function engineWith(...rules: unknown[]): AlertEngine {
  const set = new RuleSet();
  for (const r of rules) set.set(parseRule(r));
  return new AlertEngine(set, { allowedLatenessMs: 5000 });
}

function sample(
  deviceId: string,
  s: number,
  value: number,
  metric = 'temp',
  quality: 'GOOD' | 'BAD' = 'GOOD',
): EngineInput {
  return { type: 'sample', deviceId, ts: T0 + s * 1000, metric, value, quality, labels: {} };
}

function run(engine: AlertEngine, inputs: EngineInput[]): AlertTransition[] {
  return inputs.flatMap((i) => engine.process(i));
}

const statuses = (ts: AlertTransition[]) => ts.map((t) => `${t.previous}>${t.status}`);

describe('rule validation', () => {
  it('names the field of every problem', () => {
    expect(() =>
      parseRule({
        id: 'r1',
        name: 'x',
        condition: { kind: 'threshold', metric: 'temp', threshold: 'high' },
        for: '5 minutes',
      }),
    ).toThrow(RuleValidationError);
    try {
      parseRule({
        id: 'R 1',
        name: 'x',
        condition: { kind: 'threshold', metric: 'temp', threshold: 'high' },
        for: '5 min',
        colour: 1,
      });
    } catch (error) {
      const fields = (error as RuleValidationError).problems.map((p) => p.field);
      expect(fields).toEqual(expect.arrayContaining(['id', 'condition.threshold', 'for', 'colour']));
      expect((error as Error).message).toMatch(/condition\.threshold: /);
    }
  });

  it('refuses a clear threshold on the wrong side', () => {
    expect(() =>
      parseRule({
        id: 'r',
        name: 'x',
        condition: { kind: 'threshold', metric: 't', op: '>', threshold: 80, clearThreshold: 90 },
      }),
    ).toThrow(/condition\.clearThreshold/);
  });
});

describe('threshold rule', () => {
  const rule = {
    id: 'hot',
    name: 'Hot',
    condition: {
      kind: 'threshold',
      metric: 'temp',
      aggregation: 'avg',
      window: '10s',
      op: '>',
      threshold: 80,
      clearThreshold: 70,
    },
    for: '5s',
    severity: 'major',
    annotations: { summary: '{{device}} at {{value}} (limit {{threshold}})' },
  };

  it('goes pending, fires after `for`, holds within the clear band and resolves below it', () => {
    const engine = engineWith(rule);
    const out: AlertTransition[] = [];
    for (let s = 0; s < 10; s++) out.push(...engine.process(sample('d1', s, 50)));
    expect(out).toEqual([]);
    for (let s = 10; s < 30; s++) out.push(...engine.process(sample('d1', s, 100)));
    expect(statuses(out)).toEqual(['inactive>pending', 'pending>firing']);
    const firing = out[1]!;
    // avg crosses 80 once 10 s of the 10-s window hold mostly 100s; `for` adds 5 s.
    expect(firing.ts - out[0]!.ts).toBeGreaterThanOrEqual(5000);
    expect(firing.annotations['summary']).toMatch(/^d1 at \d+(\.\d+)? \(limit 80\)$/);
    // Fired against the clear threshold (hysteresis once pending), explained with the rule's limit.
    expect(firing.annotations['explanation']).toMatch(/^avg\(temp\) over 10s = \d+(\.\d+)? > 80$/);
    expect(firing.severity).toBe('major');
    out.length = 0;
    // 75 is below 80 but above the clear threshold: still firing.
    for (let s = 30; s < 50; s++) out.push(...engine.process(sample('d1', s, 75)));
    expect(out).toEqual([]);
    for (let s = 50; s < 70; s++) out.push(...engine.process(sample('d1', s, 60)));
    expect(statuses(out)).toEqual(['firing>resolved']);
    expect(out[0]!.eventId).toBe(`${firing.alertId}:3`);
    expect(out[0]!.annotations['explanation']).toMatch(/^avg\(temp\) over 10s = \d+(\.\d+)?, clear of 70$/);
  });

  it('drops data later than the lateness bound and accepts out-of-order data within it', () => {
    const engine = engineWith(rule);
    run(engine, [sample('d1', 100, 50), sample('d1', 98, 50)]);
    expect(engine.lateDropped).toBe(0);
    run(engine, [sample('d1', 90, 500)]);
    expect(engine.lateDropped).toBe(1);
  });

  it('matches devices by type, site and labels', () => {
    const engine = engineWith({
      ...rule,
      for: 0,
      selector: { deviceType: 'pump', site: 'north' },
    });
    engine.process({
      type: 'device',
      deviceId: 'p1',
      ts: T0,
      deviceType: 'pump',
      labels: { site: 'north' },
      removed: false,
    });
    engine.process({
      type: 'device',
      deviceId: 'p2',
      ts: T0,
      deviceType: 'pump',
      labels: { site: 'south' },
      removed: false,
    });
    const out = run(engine, [sample('p1', 1, 100), sample('p2', 1, 100)]);
    expect(out.map((t) => t.deviceId)).toEqual(['p1']);
  });
});

describe('state machine', () => {
  it('keep_firing_for holds a firing alert after the condition stops', () => {
    const engine = engineWith({
      id: 'k',
      name: 'K',
      condition: { kind: 'threshold', metric: 'temp', aggregation: 'last', window: '1s', threshold: 10 },
      keepFiringFor: '10s',
    });
    const out = run(engine, [sample('d', 0, 20), sample('d', 1, 0), sample('d', 5, 0)]);
    expect(statuses(out)).toEqual(['inactive>firing']);
    expect(statuses(run(engine, [sample('d', 12, 0)]))).toEqual(['firing>resolved']);
  });

  it('marks an alert flapping after too many transitions in the window, and clears it later', () => {
    const engine = engineWith({
      id: 'f',
      name: 'F',
      condition: { kind: 'threshold', metric: 'temp', aggregation: 'last', window: '1s', threshold: 10 },
      flapping: { window: '60s', maxTransitions: 4 },
    });
    const out = run(
      engine,
      [0, 1, 2, 3, 4, 5].map((s) => sample('d', s, s % 2 === 0 ? 20 : 0)),
    );
    expect(out.map((t) => t.flapping)).toEqual([false, false, false, true, true, true]);
    const later = engine.advance(T0 + 200_000);
    expect(later.map((t) => [t.status, t.flapping])).toEqual([['resolved', false]]);
  });

  it('cooldown keeps a resolved alert from firing again too soon', () => {
    const engine = engineWith({
      id: 'c',
      name: 'C',
      condition: { kind: 'threshold', metric: 'temp', aggregation: 'last', window: '1s', threshold: 10 },
      cooldown: '30s',
    });
    const out = run(engine, [
      sample('d', 0, 20),
      sample('d', 1, 0),
      sample('d', 2, 20),
      sample('d', 20, 20),
      sample('d', 40, 20),
    ]);
    expect(statuses(out)).toEqual([
      'inactive>firing',
      'firing>resolved',
      'resolved>pending',
      'pending>firing',
    ]);
    expect(out[3]!.ts).toBe(T0 + 40_000);
  });
});

describe('other kinds', () => {
  it('no data: fires when a metric is silent for the duration or BAD, resolves when it returns', () => {
    const engine = engineWith({
      id: 'nd',
      name: 'ND',
      condition: { kind: 'nodata', metric: 'temp', silentFor: '30s' },
    });
    run(engine, [sample('d', 0, 1)]);
    expect(engine.advance(T0 + 20_000)).toEqual([]);
    expect(statuses(engine.advance(T0 + 31_000))).toEqual(['inactive>firing']);
    expect(statuses(run(engine, [sample('d', 32, 1)]))).toEqual(['firing>resolved']);
    expect(statuses(run(engine, [sample('d', 33, 1, 'temp', 'BAD')]))).toEqual(['resolved>firing']);
  });

  it('anomaly: N flagged windows within the span, severity raised by the score ratio', () => {
    const engine = engineWith({
      id: 'an',
      name: 'AN',
      condition: { kind: 'anomaly', windows: 3, within: '60s' },
      severity: 'minor',
    });
    const a = (s: number, score: number): EngineInput => ({
      type: 'anomaly',
      deviceId: 'd',
      ts: T0 + s * 1000,
      score,
      threshold: 1,
    });
    expect(run(engine, [a(0, 1.5), a(10, 0.5), a(20, 1.2)])).toEqual([]);
    const out = run(engine, [a(30, 2.5)]);
    expect(statuses(out)).toEqual(['inactive>firing']);
    expect(out[0]!.severity).toBe('major');
    expect(out[0]!.severityReason).toMatch(/anomaly score 2.5x/);
    expect(statuses(engine.advance(T0 + 85_000))).toEqual(['firing>resolved']);
  });

  it('forecast: time to failure under the limit fires with raised severity', () => {
    const engine = engineWith({
      id: 'fc',
      name: 'FC',
      condition: { kind: 'forecast', metric: 'bearing_temperature', timeToFailureUnder: '2h' },
      annotations: { summary: '{{device}} fails in {{timeToFailure}}' },
    });
    const out = engine.process({
      type: 'forecast',
      deviceId: 'p',
      ts: T0,
      metric: 'bearing_temperature',
      risk: 'HIGH',
      timeToFailureMs: 600_000,
    });
    expect(out[0]!.annotations['summary']).toBe('p fails in 10 min');
    expect(out[0]!.severity).toBe('critical');
  });

  it('log pattern and composite AND', () => {
    const engine = engineWith({
      id: 'cp',
      name: 'CP',
      condition: {
        kind: 'composite',
        op: 'and',
        conditions: [
          { kind: 'threshold', metric: 'temp', aggregation: 'last', window: '10s', threshold: 50 },
          { kind: 'log', pattern: 'overheat', window: '60s', count: 2 },
        ],
      },
    });
    const log = (s: number, body: string): EngineInput => ({
      type: 'log',
      deviceId: 'd',
      ts: T0 + s * 1000,
      severity: 'ERROR',
      body,
    });
    expect(run(engine, [sample('d', 0, 60), log(1, 'overheat'), log(2, 'fine')])).toEqual([]);
    expect(statuses(run(engine, [log(3, 'overheat again')]))).toEqual(['inactive>firing']);
    expect(statuses(run(engine, [sample('d', 4, 10)]))).toEqual(['firing>resolved']);
  });
});

describe('snapshot and restore', () => {
  it('a restored engine continues a pending alert without repeating its transition', () => {
    const rule = {
      id: 'p',
      name: 'P',
      condition: { kind: 'threshold', metric: 'temp', aggregation: 'last', window: '5s', threshold: 10 },
      for: '10s',
    };
    const first = engineWith(rule);
    expect(statuses(run(first, [sample('d', 0, 20), sample('d', 3, 20)]))).toEqual(['inactive>pending']);
    const snapshot = JSON.parse(JSON.stringify(first.takeDirty())) as ReturnType<AlertEngine['takeDirty']>;
    const second = engineWith(rule);
    for (const [, s] of snapshot) second.restore(s!);
    const out = run(second, [sample('d', 6, 20), sample('d', 11, 20)]);
    expect(statuses(out)).toEqual(['pending>firing']);
    expect(out[0]!.seq).toBe(2);
  });

  it('a changed condition starts its windows afresh but keeps the alert state', () => {
    const set = new RuleSet();
    const rule = (aggregation: string, threshold: number) =>
      parseRule({
        id: 'c',
        name: 'C',
        condition: { kind: 'threshold', metric: 'temp', aggregation, window: '60s', threshold },
      });
    set.set(rule('avg', 50));
    const engine = new AlertEngine(set);
    expect(statuses(run(engine, [sample('d', 0, 100), sample('d', 1, 100)]))).toEqual(['inactive>firing']);
    set.set(rule('min', 5));
    // min over the old window would be 100 (firing); afresh it is this sample alone.
    expect(statuses(run(engine, [sample('d', 2, 3)]))).toEqual(['firing>resolved']);
  });
});
