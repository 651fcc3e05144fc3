import { describe, expect, it } from 'vitest';
import { FaultSpecError } from './faults.js';
import { Plant } from './plant.js';
import type { FaultSpec, SimulatedSample } from './plant.type.js';
import { HOUR_MS, MINUTE_MS, SECOND_MS } from './signals.util.js';

// Midnight UTC: hours into the run are hours of the day.
const DAY0 = Date.UTC(2025, 5, 2);
const at = (hours: number): number => DAY0 + hours * HOUR_MS;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Samples one device from fromMs (inclusive) to toMs (exclusive), grouped by metric. */
function run(
  plant: Plant,
  deviceId: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
): Map<string, SimulatedSample[]> {
  const byMetric = new Map<string, SimulatedSample[]>();
  for (let t = fromMs; t < toMs; t += stepMs) {
    for (const sample of plant.sampleDevice(deviceId, t)) {
      const list = byMetric.get(sample.metric) ?? [];
      list.push(sample);
      byMetric.set(sample.metric, list);
    }
  }
  return byMetric;
}

function values(series: Map<string, SimulatedSample[]>, metric: string): number[] {
  return (series.get(metric) ?? []).map((sample) => {
    if (sample.value === null) throw new Error(`unexpected null ${metric} at ${sample.timestampMs}`);
    return sample.value;
  });
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]): number => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

function pearson(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  xs.forEach((x, i) => {
    const y = ys[i] ?? Number.NaN;
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

function twin(fault: FaultSpec): { faulty: Plant; healthy: Plant } {
  return {
    faulty: new Plant({ devices: 5, seed: 11, faults: [fault] }),
    healthy: new Plant({ devices: 5, seed: 11 }),
  };
}

describe('Plant devices', () => {
  it('spreads 40% pumps, 40% motors and 20% environment sensors with stable ids and labels', () => {
    const devices = new Plant({ devices: 10 }).devices();
    expect(devices.map((d) => d.id)).toEqual([
      'pump-0001',
      'motor-0001',
      'pump-0002',
      'motor-0002',
      'env-0001',
      'pump-0003',
      'motor-0003',
      'pump-0004',
      'motor-0004',
      'env-0002',
    ]);
    expect(devices[0]).toMatchObject({
      type: 'pump',
      labels: { site: 'site-01', line: 'line-01', asset: 'P-0001' },
      metrics: [
        { name: 'flow_rate', unit: 'm3/h' },
        { name: 'discharge_pressure', unit: 'bar' },
        { name: 'motor_current', unit: 'A' },
        { name: 'vibration_rms', unit: 'mm/s' },
        { name: 'bearing_temperature', unit: 'degC' },
      ],
    });
    expect(devices[4]?.type).toBe('environment_sensor');
  });

  it('keeps a device the same whatever the plant size', () => {
    const small = new Plant({ devices: 5, seed: 3 });
    const large = new Plant({ devices: 500, seed: 3 });
    expect(large.devices()[2]).toEqual(small.devices()[2]);
    expect(large.sampleDevice('pump-0002', at(10))).toEqual(small.sampleDevice('pump-0002', at(10)));
  });

  it('hands out copies, so callers cannot alter the plant', () => {
    const plant = new Plant({ devices: 1 });
    const [device] = plant.devices();
    if (device === undefined) throw new Error('no device');
    device.labels['site'] = 'elsewhere';
    expect(plant.devices()[0]?.labels['site']).toBe('site-01');
  });

  it('rejects a plant without devices and faults aimed at missing or unsuitable devices', () => {
    expect(() => new Plant({ devices: 0 })).toThrow(RangeError);
    const fault = (deviceId: string, kind: FaultSpec['kind']): FaultSpec => ({ deviceId, kind, startMs: 0 });
    expect(() => new Plant({ devices: 2, faults: [fault('pump-0009', 'leak')] })).toThrow(
      /unknown device pump-0009/,
    );
    expect(() => new Plant({ devices: 2, faults: [fault('motor-0001', 'leak')] })).toThrow(FaultSpecError);
    expect(() => new Plant({ devices: 2 }).sampleDevice('pump-0009', 0)).toThrow(/Unknown device pump-0009/);
  });
});

describe('Plant sampling', () => {
  it('emits every metric of every device per tick, in the telemetry sample shape', () => {
    const samples = new Plant({ devices: 5, source: 'simulator:test' }).sample(at(12));
    expect(samples).toHaveLength(5 + 5 + 5 + 5 + 3);
    for (const sample of samples) {
      expect(sample.eventId).toMatch(UUID);
      expect(sample.timestampMs).toBe(at(12));
      expect(sample.quality).toBe('GOOD');
      expect(typeof sample.value).toBe('number');
      expect(sample.source).toBe('simulator:test');
    }
  });

  it('replays exactly for a seed and differs for another', () => {
    const ticks = (seed: number): SimulatedSample[][] => {
      const plant = new Plant({ devices: 10, seed });
      return [0, 1, 2, 60].map((s) => plant.sample(at(9) + s * SECOND_MS));
    };
    expect(ticks(5)).toEqual(ticks(5));
    expect(ticks(5)[3]?.[0]?.value).not.toBe(ticks(6)[3]?.[0]?.value);
    expect(ticks(5)[3]?.[0]?.eventId).not.toBe(ticks(6)[3]?.[0]?.eventId);
  });

  it('gives every sample a unique event id that a replay repeats', () => {
    const plant = new Plant({ devices: 50, seed: 9 });
    const ids = [plant.sample(at(1)), plant.sample(at(1) + SECOND_MS)].flat().map((s) => s.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    const device = new Plant({ devices: 50, seed: 9 }).sampleDevice('motor-0007', at(1));
    expect(device.map((s) => s.eventId)).toEqual(
      new Plant({ devices: 50, seed: 9 })
        .sample(at(1))
        .filter((s) => s.deviceId === 'motor-0007')
        .map((s) => s.eventId),
    );
  });

  it('correlates load-driven metrics over a day at 1-minute steps', () => {
    const plant = new Plant({ devices: 5, seed: 21 });
    const pump = run(plant, 'pump-0001', at(0), at(24), MINUTE_MS);
    expect(pearson(values(pump, 'motor_current'), values(pump, 'flow_rate'))).toBeGreaterThan(0.8);
    expect(pearson(values(pump, 'discharge_pressure'), values(pump, 'flow_rate'))).toBeGreaterThan(0.8);
    expect(pearson(values(pump, 'vibration_rms'), values(pump, 'flow_rate'))).toBeGreaterThan(0.8);
    const motor = run(plant, 'motor-0001', at(0), at(24), MINUTE_MS);
    expect(pearson(values(motor, 'current'), values(motor, 'power_kw'))).toBeGreaterThan(0.8);
    expect(pearson(values(motor, 'speed_rpm'), values(motor, 'power_kw'))).toBeGreaterThan(0.8);
    const env = run(plant, 'env-0001', at(0), at(24), MINUTE_MS);
    expect(pearson(values(env, 'humidity'), values(env, 'temperature'))).toBeLessThan(-0.8);
  });

  it('shows the daily cycle: day shifts run harder than the night', () => {
    const plant = new Plant({ devices: 5, seed: 4 });
    const day = (id: string): Map<string, SimulatedSample[]> => run(plant, id, at(0), at(24), MINUTE_MS);
    const dayVsNight = (series: Map<string, SimulatedSample[]>, metric: string): [number, number] => {
      const samples = series.get(metric) ?? [];
      const between = (from: number, to: number): number[] =>
        samples
          .filter((s) => s.timestampMs >= at(from) && s.timestampMs < at(to))
          .map((s) => s.value ?? Number.NaN);
      return [mean(between(10, 16)), mean(between(0, 4))];
    };
    const pump = day('pump-0001');
    for (const metric of ['flow_rate', 'motor_current', 'bearing_temperature']) {
      const [dayMean, nightMean] = dayVsNight(pump, metric);
      expect(dayMean, metric).toBeGreaterThan(nightMean);
    }
    const [daySpeed, nightSpeed] = dayVsNight(day('motor-0001'), 'speed_rpm');
    expect(daySpeed).toBeGreaterThan(nightSpeed);
    const env = day('env-0001');
    const [dayCo2, nightCo2] = dayVsNight(env, 'co2');
    expect(dayCo2).toBeGreaterThan(nightCo2 + 100);
    const [dayTemperature, nightTemperature] = dayVsNight(env, 'temperature');
    expect(dayTemperature).toBeGreaterThan(nightTemperature);
  });

  it('integrates over real elapsed time, so 1 Hz and 1-minute ticks agree', () => {
    const fine = run(new Plant({ devices: 1, seed: 8 }), 'pump-0001', at(5), at(12), SECOND_MS);
    const coarse = run(new Plant({ devices: 1, seed: 8 }), 'pump-0001', at(5), at(12), MINUTE_MS);
    const lastHour = (series: Map<string, SimulatedSample[]>): number =>
      mean(
        (series.get('bearing_temperature') ?? [])
          .filter((s) => s.timestampMs >= at(11))
          .map((s) => s.value ?? 0),
      );
    expect(Math.abs(lastHour(fine) - lastHour(coarse))).toBeLessThan(1.5);
  });

  it('settles into steady state at startMs and integrates from there', () => {
    const settled = new Plant({ devices: 1, seed: 2, startMs: at(3) });
    const [temperature] = values(run(settled, 'pump-0001', at(14), at(14) + 1, 1), 'bearing_temperature');
    const late = new Plant({ devices: 1, seed: 2 });
    const [fresh] = values(run(late, 'pump-0001', at(14), at(14) + 1, 1), 'bearing_temperature');
    // Eleven hours of lag from a night-time start end where a plant born at 14:00 starts: hot.
    expect(temperature).toBeDefined();
    expect(Math.abs((temperature ?? 0) - (fresh ?? 0))).toBeLessThan(3);
  });
});

describe('Plant faults', () => {
  it('bearing_wear raises vibration and bearing temperature, accelerating over hours', () => {
    const { faulty, healthy } = twin({ deviceId: 'pump-0001', kind: 'bearing_wear', startMs: at(8) });
    const bad = run(faulty, 'pump-0001', at(6), at(16), MINUTE_MS);
    const good = run(healthy, 'pump-0001', at(6), at(16), MINUTE_MS);
    const excess = (metric: string, hours: number): number => {
      const i = (hours - 6) * 60;
      return (values(bad, metric)[i] ?? Number.NaN) - (values(good, metric)[i] ?? Number.NaN);
    };
    expect(excess('vibration_rms', 7)).toBe(0);
    expect(excess('bearing_temperature', 7)).toBe(0);
    expect(excess('vibration_rms', 14)).toBeGreaterThan(4);
    expect(excess('bearing_temperature', 14)).toBeGreaterThan(15);
    expect(excess('vibration_rms', 14) - excess('vibration_rms', 12)).toBeGreaterThan(
      excess('vibration_rms', 12) - excess('vibration_rms', 10),
    );
  });

  it('bearing_wear heats a motor winding too', () => {
    const { faulty, healthy } = twin({
      deviceId: 'motor-0001',
      kind: 'bearing_wear',
      startMs: at(8),
      severity: 2,
    });
    const bad = run(faulty, 'motor-0001', at(8), at(12), MINUTE_MS);
    const good = run(healthy, 'motor-0001', at(8), at(12), MINUTE_MS);
    expect(mean(values(bad, 'winding_temperature'))).toBeGreaterThan(
      mean(values(good, 'winding_temperature')) + 5,
    );
    expect(mean(values(bad, 'vibration_rms'))).toBeGreaterThan(mean(values(good, 'vibration_rms')) + 2);
  });

  it('leak lowers pressure while flow and current rise', () => {
    const { faulty, healthy } = twin({
      deviceId: 'pump-0002',
      kind: 'leak',
      startMs: at(10),
      durationMs: HOUR_MS,
    });
    const bad = run(faulty, 'pump-0002', at(10) + 10 * MINUTE_MS, at(11), MINUTE_MS);
    const good = run(healthy, 'pump-0002', at(10) + 10 * MINUTE_MS, at(11), MINUTE_MS);
    expect(mean(values(bad, 'discharge_pressure'))).toBeLessThan(
      0.8 * mean(values(good, 'discharge_pressure')),
    );
    expect(mean(values(bad, 'flow_rate'))).toBeGreaterThan(mean(values(good, 'flow_rate')));
    expect(mean(values(bad, 'motor_current'))).toBeGreaterThan(mean(values(good, 'motor_current')));
  });

  it('stuck_sensor freezes one metric at its last value, still GOOD, then lets go', () => {
    const plant = new Plant({
      devices: 5,
      seed: 11,
      faults: [
        {
          deviceId: 'pump-0001',
          kind: 'stuck_sensor',
          metric: 'bearing_temperature',
          startMs: at(10),
          durationMs: HOUR_MS,
        },
      ],
    });
    const before = values(run(plant, 'pump-0001', at(9), at(10), MINUTE_MS), 'bearing_temperature');
    const during = run(plant, 'pump-0001', at(10), at(11), MINUTE_MS);
    const stuck = values(during, 'bearing_temperature');
    expect(new Set(stuck).size).toBe(1);
    expect(stuck[0]).toBe(before.at(-1));
    expect(during.get('bearing_temperature')?.every((s) => s.quality === 'GOOD')).toBe(true);
    expect(new Set(values(during, 'flow_rate')).size).toBeGreaterThan(1);
    expect(
      new Set(values(run(plant, 'pump-0001', at(11), at(12), MINUTE_MS), 'bearing_temperature')).size,
    ).toBeGreaterThan(1);
  });

  it('dropout sends BAD nulls by default and nothing in missing mode', () => {
    const bad = new Plant({
      devices: 5,
      faults: [{ deviceId: 'env-0001', kind: 'dropout', startMs: at(1), durationMs: 5 * MINUTE_MS }],
    });
    const during = bad.sampleDevice('env-0001', at(1) + MINUTE_MS);
    expect(during).toHaveLength(3);
    expect(during.every((s) => s.quality === 'BAD' && s.value === null)).toBe(true);
    expect(bad.sampleDevice('env-0001', at(1) + 5 * MINUTE_MS).every((s) => s.quality === 'GOOD')).toBe(true);

    const missing = new Plant({
      devices: 5,
      faults: [
        { deviceId: 'motor-0001', kind: 'dropout', metric: 'current', mode: 'missing', startMs: at(1) },
      ],
    });
    expect(missing.sampleDevice('motor-0001', at(1)).map((s) => s.metric)).toEqual([
      'speed_rpm',
      'winding_temperature',
      'vibration_rms',
      'power_kw',
    ]);
  });

  it('spike adds isolated values far above the normal spread', () => {
    const { faulty, healthy } = twin({
      deviceId: 'pump-0001',
      kind: 'spike',
      metric: 'flow_rate',
      startMs: at(10),
    });
    const spiky = values(run(faulty, 'pump-0001', at(10), at(11), SECOND_MS), 'flow_rate');
    const normal = values(run(healthy, 'pump-0001', at(10), at(11), SECOND_MS), 'flow_rate');
    const threshold = mean(normal) + 6 * sd(normal);
    const spikes = spiky.filter((v) => v > threshold).length;
    expect(spikes).toBeGreaterThan(10);
    expect(spikes).toBeLessThan(spiky.length * 0.05);
  });
});
