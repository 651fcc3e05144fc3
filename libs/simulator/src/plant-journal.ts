import { randomBytes, randomUUID } from 'node:crypto';
import type { DeviceLogRecord, Quality, Span } from '@sentio/events';
import type { FaultSpec, SimulatedDevice, SimulatedSample } from './plant.type.js';

export interface PlantJournalOptions {
  devices: SimulatedDevice[];
  faults?: FaultSpec[];
  /** The events' `source` (as for telemetry). */
  source?: string;
  /** The spans' service.name. */
  serviceName?: string;
  /** A status line per device this often, spread over the interval so they do not all land on one tick. */
  statusEveryMs?: number;
}

/** One publish cycle, as the runner timed it: sampling, then each output. */
export interface CycleTiming {
  tickMs: number;
  startedMs: number;
  sampledMs: number;
  outputs: Array<{ name: string; startedMs: number; endedMs: number; error?: string }>;
  samples: number;
}

export interface CycleJournal {
  logs: DeviceLogRecord[];
  spans: Span[];
}

/**
 * What a plant writes besides telemetry, as device firmware and a gateway would: log lines (device started,
 * fault onset and clearing, a sensor's quality changing, a periodic status) and a trace of every publish
 * cycle (sample, then each output). A cycle's log lines carry its trace and span ids, so a line leads to its
 * trace. Pure: the runner produces the records to Kafka like any connector's.
 */
export class PlantJournal {
  private readonly devices: SimulatedDevice[];
  private readonly faults: FaultSpec[];
  private readonly source: string;
  private readonly serviceName: string;
  private readonly statusEveryMs: number;
  private readonly quality = new Map<string, Quality>();
  private readonly started = new Set<string>();
  private previousTickMs: number | undefined;

  constructor(options: PlantJournalOptions) {
    this.devices = options.devices;
    this.faults = options.faults ?? [];
    this.source = options.source ?? 'simulator';
    this.serviceName = options.serviceName ?? 'sentio-simulator';
    this.statusEveryMs = options.statusEveryMs ?? 60_000;
  }

  /** The log lines of one tick (before its trace is known: `cycle` attaches them to it). */
  logsAt(tickMs: number, samples: SimulatedSample[]): Array<Omit<DeviceLogRecord, 'traceId' | 'spanId'>> {
    const lines: Array<Omit<DeviceLogRecord, 'traceId' | 'spanId'>> = [];
    const line = (
      deviceId: string,
      severity: DeviceLogRecord['severity'],
      body: string,
      attributes: Record<string, string>,
    ) =>
      lines.push({
        eventId: randomUUID(),
        deviceId,
        timestampMs: tickMs,
        severity,
        body,
        attributes,
        source: this.source,
      });
    const previous = this.previousTickMs;
    for (const d of this.devices) {
      if (this.started.has(d.id)) continue;
      this.started.add(d.id);
      line(d.id, 'INFO', `started: ${d.type} ${d.vendor} ${d.model}, ${d.metrics.length} metrics`, {
        event: 'started',
      });
    }
    for (const f of this.faults) {
      const endMs = f.durationMs === undefined ? Infinity : f.startMs + f.durationMs;
      const crossed = (at: number) => at <= tickMs && (previous === undefined || at > previous);
      if (crossed(f.startMs))
        line(f.deviceId, 'WARN', `fault onset: ${f.kind}${f.metric ? ` on ${f.metric}` : ''}`, {
          event: 'fault_onset',
          fault: f.kind,
          severity: String(f.severity ?? 1),
        });
      if (crossed(endMs))
        line(f.deviceId, 'INFO', `fault cleared: ${f.kind}`, { event: 'fault_cleared', fault: f.kind });
    }
    const byDevice = new Map<string, SimulatedSample[]>();
    for (const s of samples) {
      const key = `${s.deviceId}\u0000${s.metric}`;
      const before = this.quality.get(key);
      if (before !== undefined && before !== s.quality)
        line(
          s.deviceId,
          s.quality === 'GOOD' ? 'INFO' : s.quality === 'BAD' ? 'ERROR' : 'WARN',
          `sensor ${s.metric} quality ${before} -> ${s.quality}`,
          { event: 'quality', metric: s.metric, quality: s.quality },
        );
      this.quality.set(key, s.quality);
      const list = byDevice.get(s.deviceId);
      if (list) list.push(s);
      else byDevice.set(s.deviceId, [s]);
    }
    if (previous !== undefined)
      for (const [deviceId, list] of byDevice) {
        // Each device's status falls at its own offset within the interval.
        const due = nextDue(previous, this.statusEveryMs, offsetOf(deviceId, this.statusEveryMs));
        if (due > tickMs) continue;
        const values = list
          .filter((s) => s.value !== null)
          .map((s) => `${s.metric}=${round(s.value!)}${s.unit ? ` ${s.unit}` : ''}`);
        line(deviceId, 'INFO', `status: ${values.join(', ') || 'no readings'}`, { event: 'status' });
      }
    this.previousTickMs = tickMs;
    return lines;
  }

  /** The trace of one publish cycle, and the tick's log lines attached to its root span. */
  cycle(timing: CycleTiming, lines: Array<Omit<DeviceLogRecord, 'traceId' | 'spanId'>>): CycleJournal {
    const traceId = randomBytes(16).toString('hex');
    const root = randomBytes(8).toString('hex');
    const endedMs = Math.max(timing.sampledMs, ...timing.outputs.map((o) => o.endedMs));
    const failed = timing.outputs.filter((o) => o.error);
    const span = (
      spanId: string,
      parentSpanId: string | null,
      name: string,
      kind: Span['kind'],
      fromMs: number,
      toMs: number,
      attributes: Record<string, string>,
      error?: string,
    ): Span => ({
      eventId: randomUUID(),
      traceId,
      spanId,
      parentSpanId,
      name,
      serviceName: this.serviceName,
      deviceId: null,
      kind,
      startTimeUs: Math.round(fromMs * 1000),
      durationUs: Math.max(1, Math.round((toMs - fromMs) * 1000)),
      statusCode: error ? 'ERROR' : 'OK',
      statusMessage: error ?? null,
      attributes,
      events: [],
      source: this.source,
    });
    const spans = [
      span(
        root,
        null,
        'simulator.cycle',
        'INTERNAL',
        timing.startedMs,
        endedMs,
        {
          'simulator.tick': new Date(timing.tickMs).toISOString(),
          'simulator.samples': String(timing.samples),
          'simulator.devices': String(this.devices.length),
          'simulator.log_lines': String(lines.length),
        },
        failed.length ? failed.map((o) => `${o.name}: ${o.error}`).join('; ') : undefined,
      ),
      span(
        randomBytes(8).toString('hex'),
        root,
        'plant.sample',
        'INTERNAL',
        timing.startedMs,
        timing.sampledMs,
        {
          'simulator.samples': String(timing.samples),
        },
      ),
      ...timing.outputs.map((o) =>
        span(
          randomBytes(8).toString('hex'),
          root,
          `publish ${o.name}`,
          'PRODUCER',
          o.startedMs,
          o.endedMs,
          { 'simulator.output': o.name },
          o.error,
        ),
      ),
    ];
    return { logs: lines.map((l) => ({ ...l, traceId, spanId: root })), spans };
  }
}

function offsetOf(deviceId: string, everyMs: number): number {
  let h = 2166136261;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 16777619);
  return (h >>> 0) % everyMs;
}

/** The first time after `afterMs` that is `offsetMs` past a multiple of `everyMs`. */
function nextDue(afterMs: number, everyMs: number, offsetMs: number): number {
  const base = Math.floor((afterMs - offsetMs) / everyMs) * everyMs + offsetMs;
  return base > afterMs ? base : base + everyMs;
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}
