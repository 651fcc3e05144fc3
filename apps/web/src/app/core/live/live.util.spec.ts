import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.util';
import { SharedSubscriptions } from './shared-subscriptions.util';

describe('backoff', () => {
  it('grows exponentially with jitter and is capped at 30 s', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(20, () => 1)).toBe(30_000);
    expect(backoffMs(20, () => 0)).toBe(15_000);
  });
});

describe('shared subscriptions', () => {
  it('opens one server subscription per key, fans values out, closes it with the last listener', () => {
    const opened: string[] = [];
    const closed: string[] = [];
    const emitters = new Map<string, (v: number) => void>();
    const shared = new SharedSubscriptions<number>((key, emit) => {
      opened.push(key);
      emitters.set(key, emit);
      return () => closed.push(key);
    });
    const a: number[] = [];
    const b: number[] = [];
    const stopA = shared.subscribe('telemetry:pump-1', (v) => a.push(v));
    const stopB = shared.subscribe('telemetry:pump-1', (v) => b.push(v));
    const stopC = shared.subscribe('anomalies', () => undefined);
    expect(opened).toEqual(['telemetry:pump-1', 'anomalies']);
    emitters.get('telemetry:pump-1')!(7);
    expect([a, b]).toEqual([[7], [7]]);
    stopA();
    expect(closed).toEqual([]);
    emitters.get('telemetry:pump-1')!(8);
    expect([a, b]).toEqual([[7], [7, 8]]);
    stopB();
    stopB();
    expect(closed).toEqual(['telemetry:pump-1']);
    expect(shared.size).toBe(1);
    stopC();
    expect(shared.size).toBe(0);
    // A new listener after the close opens a fresh subscription.
    shared.subscribe('telemetry:pump-1', () => undefined);
    expect(opened).toEqual(['telemetry:pump-1', 'anomalies', 'telemetry:pump-1']);
  });
});
