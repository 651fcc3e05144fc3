import { describe, expect, it } from 'vitest';
import { parseFaultSpec } from './faults.js';
import { Plant } from './plant.js';
import { PlantJournal } from './plant-journal.js';

const T0 = Date.parse('2026-11-30T12:00:00Z');

describe('PlantJournal', () => {
  const faults = [parseFaultSpec('pump-0001:leak@+5s', T0)];
  const plant = new Plant({ devices: 3, seed: 4, startMs: T0, faults });
  const device = plant.devices()[0]!.id;

  it('writes start lines once, the fault onset on the tick that crosses it, and one status per device per interval', () => {
    const journal = new PlantJournal({ devices: plant.devices(), faults, statusEveryMs: 10_000 });
    const ticks = Array.from({ length: 21 }, (_, i) => T0 + i * 1000);
    const lines = ticks.map((t) => journal.logsAt(t, plant.sample(t)));
    expect(lines[0]!.map((l) => l.body)).toEqual(
      plant.devices().map((d) => expect.stringMatching(new RegExp(`^started: ${d.type} `))),
    );
    const onsets = lines.flat().filter((l) => l.attributes['event'] === 'fault_onset');
    expect(onsets).toHaveLength(1);
    expect(onsets[0]).toMatchObject({
      deviceId: 'pump-0001',
      severity: 'WARN',
      body: 'fault onset: leak',
      timestampMs: T0 + 5000,
    });
    // Twenty seconds at one status per ten seconds: two per device, each listing its readings.
    const status = lines.flat().filter((l) => l.attributes['event'] === 'status');
    for (const d of plant.devices()) expect(status.filter((l) => l.deviceId === d.id)).toHaveLength(2);
    expect(status[0]!.body).toMatch(/^status: \w+=-?[\d.]+/);
  });

  it('traces a publish cycle: a root span with sampling and each output beneath it; the lines carry its ids', () => {
    const journal = new PlantJournal({ devices: plant.devices() });
    const samples = plant.sample(T0);
    const lines = journal.logsAt(T0, samples);
    const { logs, spans } = journal.cycle(
      {
        tickMs: T0,
        startedMs: T0 + 1,
        sampledMs: T0 + 3,
        samples: samples.length,
        outputs: [
          { name: 'kafka', startedMs: T0 + 3, endedMs: T0 + 12 },
          { name: 'mqtt', startedMs: T0 + 3, endedMs: T0 + 5, error: 'broker gone' },
        ],
      },
      lines,
    );
    const [root, ...children] = spans;
    expect(root).toMatchObject({
      name: 'simulator.cycle',
      parentSpanId: null,
      durationUs: 11_000,
      statusCode: 'ERROR',
    });
    expect(root!.statusMessage).toBe('mqtt: broker gone');
    expect(children.map((s) => [s.name, s.parentSpanId, s.durationUs, s.statusCode])).toEqual([
      ['plant.sample', root!.spanId, 2000, 'OK'],
      ['publish kafka', root!.spanId, 9000, 'OK'],
      ['publish mqtt', root!.spanId, 2000, 'ERROR'],
    ]);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([root!.traceId]));
    expect(root!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(logs.length).toBe(lines.length);
    expect(logs.every((l) => l.traceId === root!.traceId && l.spanId === root!.spanId)).toBe(true);
    expect(logs.some((l) => l.deviceId === device)).toBe(true);
  });
});
