import type { Device, Series, Span } from '../app/core/api/api.types';

/** Small, readable API shapes for component specs. */
export function device(
  deviceId: string,
  opts: { type?: string; site?: string; lastSeenAgoMs?: number | null; values?: Record<string, number> } = {},
): Device {
  const lastSeen =
    opts.lastSeenAgoMs === null ? null : new Date(Date.now() - (opts.lastSeenAgoMs ?? 1_000)).toISOString();
  const values = opts.values ?? { temperature: 41.5 };
  return {
    deviceId,
    lastEvent: 'DISCOVERED',
    deviceType: opts.type ?? 'pump',
    vendor: 'ACME',
    model: 'P-100',
    connector: 'simulator',
    online: true,
    removed: false,
    labels: [{ key: 'site', value: opts.site ?? 'plant-a' }],
    metrics: Object.keys(values).map((name) => ({ name, unit: name === 'temperature' ? 'C' : 'bar' })),
    updatedAt: new Date(Date.now() - 3_600_000).toISOString(),
    lastSeen,
    latest: Object.entries(values).map(([metric, value]) => ({
      metric,
      value,
      unit: metric === 'temperature' ? 'C' : 'bar',
      quality: 'GOOD',
      ts: lastSeen ?? new Date(0).toISOString(),
    })),
  };
}

export function series(deviceId: string, metric: string, values: number[], stepMs = 60_000): Series {
  const start = Date.parse('2026-11-30T10:00:00Z');
  return {
    device: deviceId,
    metric,
    agg: 'avg',
    resolution: '1m',
    stepMs,
    from: new Date(start).toISOString(),
    to: new Date(start + values.length * stepMs).toISOString(),
    points: values.map((value, i) => ({ ts: new Date(start + i * stepMs).toISOString(), value })),
  };
}

export function span(
  spanId: string,
  parentSpanId: string,
  name: string,
  startUs: number,
  durationUs: number,
  status = 'OK',
): Span {
  const base = Date.parse('2026-11-30T10:00:00Z') * 1000;
  return {
    traceId: 'trace-1',
    spanId,
    parentSpanId,
    name,
    serviceName: 'sentio-simulator',
    deviceId: 'pump-001',
    kind: 'INTERNAL',
    startTime: new Date((base + startUs) / 1000).toISOString(),
    startTimeUs: base + startUs,
    durationUs,
    status,
    statusMessage: '',
    attributes: [],
  };
}

/** Lets resources, effects and fake responses settle (zoneless: nothing waits for us). */
export async function settle(fixture?: {
  whenStable(): Promise<unknown>;
  detectChanges(): void;
}): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0));
    if (fixture) await fixture.whenStable();
  }
}
