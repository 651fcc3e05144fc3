import type { ProjectionFamily } from '@sentio/clickhouse';
import type { RecordOf, StreamName } from '@sentio/events';

/** The stream a table family is a projection of, and how a record of it is placed in time and fleet. */
export interface FamilySource<S extends StreamName = StreamName> {
  stream: S;
  timeMs(record: RecordOf<S>): number;
  device(record: RecordOf<S>): string | null;
}

function source<S extends StreamName>(spec: FamilySource<S>): FamilySource<S> {
  return spec;
}

export const FAMILY_SOURCES: { readonly [F in ProjectionFamily]: FamilySource } = {
  metrics: source({ stream: 'telemetry', timeMs: (r) => r.timestampMs, device: (r) => r.deviceId }),
  logs: source({ stream: 'logs', timeMs: (r) => r.timestampMs, device: (r) => r.deviceId }),
  spans: source({
    stream: 'spans',
    timeMs: (r) => Math.floor(r.startTimeUs / 1000),
    device: (r) => r.deviceId,
  }),
  devices: source({ stream: 'lifecycle', timeMs: (r) => r.timestampMs, device: (r) => r.deviceId }),
  anomalies: source({ stream: 'anomalies', timeMs: (r) => r.timestampMs, device: (r) => r.deviceId }),
  forecasts: source({ stream: 'forecasts', timeMs: (r) => r.timestampMs, device: (r) => r.deviceId }),
  alerts: source({ stream: 'alerts', timeMs: (r) => r.timestampMs, device: (r) => r.deviceId }),
} as { readonly [F in ProjectionFamily]: FamilySource };
