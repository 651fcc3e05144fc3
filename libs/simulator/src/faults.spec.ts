import { describe, expect, it } from 'vitest';
import { bearingWear, FaultSpecError, leakLevel, loadRise, parseFaultSpec } from './faults.js';
import { Plant } from './plant.js';
import { HOUR_MS, MINUTE_MS } from './signals.util.js';

const NOW = Date.UTC(2025, 5, 1, 8);

describe('parseFaultSpec', () => {
  it('reads a relative start', () => {
    expect(parseFaultSpec('pump-0003:bearing_wear@+10m', NOW)).toEqual({
      deviceId: 'pump-0003',
      kind: 'bearing_wear',
      startMs: NOW + 10 * MINUTE_MS,
    });
  });

  it('reads a metric, options and absolute starts', () => {
    expect(parseFaultSpec('pump-0001:leak@+1.5h,for=30m,severity=2', NOW)).toEqual({
      deviceId: 'pump-0001',
      kind: 'leak',
      startMs: NOW + 1.5 * HOUR_MS,
      durationMs: 30 * MINUTE_MS,
      severity: 2,
    });
    expect(
      parseFaultSpec('motor-0002:stuck_sensor:winding_temperature@2025-06-01T09:00:00Z', NOW),
    ).toMatchObject({
      metric: 'winding_temperature',
      startMs: NOW + HOUR_MS,
    });
    expect(parseFaultSpec('env-0001:dropout@now,for=5m,mode=missing', NOW)).toMatchObject({
      startMs: NOW,
      durationMs: 5 * MINUTE_MS,
      mode: 'missing',
    });
    expect(parseFaultSpec('env-0001:spike:co2@1748764800000', NOW).startMs).toBe(1748764800000);
  });

  it.each([
    ['pump-0003:bearing_wear', /missing "@<start>"/],
    ['valve-0001:leak@now', /unknown device kind in "valve-0001"/],
    ['pump-0001:melt@now', /unknown fault "melt"/],
    ['motor-0001:leak@now', /leak does not apply to motor devices/],
    ['env-0001:bearing_wear@now', /bearing_wear does not apply to environment_sensor/],
    ['pump-0001:bearing_wear@+10x', /bad start time "\+10x"/],
    ['pump-0001:bearing_wear@yesterday', /bad start time "yesterday"/],
    ['pump-0001:bearing_wear@2025-13-45T00:00:00Z', /bad start time/],
    ['pump-0001:spike:speed_rpm@now', /unknown metric "speed_rpm" for pump/],
    ['pump-0001:leak:flow_rate@now', /leak takes no metric/],
    ['pump-0001:leak@now,for=ever', /bad duration "ever"/],
    ['pump-0001:leak@now,severity=-1', /severity must be a positive number/],
    ['pump-0001:leak@now,mode=bad', /mode applies to dropout only/],
    ['pump-0001:dropout@now,mode=sometimes', /bad mode "sometimes"/],
    ['pump-0001:leak@now,colour=red', /unknown option "colour"/],
    ['pump-0001:leak:a:b@now', /expected <device-id>:<fault>\[:<metric>\]/],
    ['env-0001:load_rise@now', /load_rise does not apply to environment_sensor/],
    ['pump-0001:load_rise:flow_rate@now', /load_rise takes no metric/],
  ])('rejects %s, naming the problem', (spec, message) => {
    expect(() => parseFaultSpec(spec, NOW)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(spec, NOW)).toThrow(message);
  });
});

describe('fault profiles', () => {
  it('wears bearings at an accelerating rate', () => {
    const wear = (hours: number): number => bearingWear(hours * HOUR_MS, 1);
    expect(wear(0)).toBe(0);
    expect(wear(6) - wear(4)).toBeGreaterThan(wear(4) - wear(2));
    expect(bearingWear(HOUR_MS, 2)).toBeCloseTo(2 * wear(1));
  });

  it('opens a leak over a few minutes, then holds it', () => {
    expect(leakLevel(0, 1)).toBe(0);
    expect(leakLevel(2 * MINUTE_MS, 1)).toBeGreaterThan(0);
    expect(leakLevel(HOUR_MS, 2)).toBe(2);
  });
});

describe('load rise (a healthy drift)', () => {
  it('parses and ramps to a quarter of rated load x severity, then holds', () => {
    expect(parseFaultSpec('pump-0002:load_rise@+10m,for=30m,severity=2', NOW)).toEqual({
      deviceId: 'pump-0002',
      kind: 'load_rise',
      startMs: NOW + 10 * MINUTE_MS,
      durationMs: 30 * MINUTE_MS,
      severity: 2,
    });
    expect(loadRise(0, 30 * MINUTE_MS, 1)).toBe(0);
    expect(loadRise(15 * MINUTE_MS, 30 * MINUTE_MS, 1)).toBeCloseTo(0.125);
    expect(loadRise(HOUR_MS, 30 * MINUTE_MS, 2)).toBeCloseTo(0.5);
  });

  it('moves every pump metric the way more demand does, and stays after the ramp', () => {
    const start = Date.UTC(2025, 5, 1, 10);
    const spec = {
      deviceId: 'pump-0001',
      kind: 'load_rise' as const,
      startMs: start,
      durationMs: 20 * MINUTE_MS,
    };
    const rising = new Plant({ devices: 1, seed: 5, startMs: start, faults: [spec] });
    const twin = new Plant({ devices: 1, seed: 5, startMs: start });
    const at = (plant: Plant, t: number) =>
      Object.fromEntries(plant.sampleDevice('pump-0001', t).map((s) => [s.metric, s.value!]));
    let last: [Record<string, number>, Record<string, number>] = [{}, {}];
    for (let t = start; t <= start + 60 * MINUTE_MS; t += 1000) last = [at(rising, t), at(twin, t)];
    const [up, base] = last;
    for (const metric of [
      'flow_rate',
      'discharge_pressure',
      'motor_current',
      'vibration_rms',
      'bearing_temperature',
    ])
      expect(up[metric]!, metric).toBeGreaterThan(base[metric]!);
  });
});
