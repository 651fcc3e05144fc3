import type { Anomaly, DeviceLifecycle, DeviceLogRecord, Forecast, TelemetrySample } from '@sentio/events';
import type { EngineInput } from './engine-input.type.js';

export function sampleInput(s: TelemetrySample): EngineInput {
  return {
    type: 'sample',
    deviceId: s.deviceId,
    ts: Number(s.timestampMs),
    metric: s.metric,
    value: s.value,
    quality: s.quality,
    labels: s.labels,
  };
}

export function anomalyInput(a: Anomaly): EngineInput {
  const top = [...a.contributions].sort((x, y) => y.error - x.error)[0];
  return {
    type: 'anomaly',
    deviceId: a.deviceId,
    ts: Number(a.timestampMs),
    score: a.score,
    threshold: a.threshold,
    ...(top ? { topMetric: top.metric } : {}),
  };
}

export function forecastInput(f: Forecast): EngineInput {
  return {
    type: 'forecast',
    deviceId: f.deviceId,
    ts: Number(f.timestampMs),
    metric: f.metric,
    risk: f.risk,
    timeToFailureMs: f.timeToFailureMs === null ? null : Number(f.timeToFailureMs),
  };
}

export function logInput(l: DeviceLogRecord): EngineInput {
  return { type: 'log', deviceId: l.deviceId, ts: Number(l.timestampMs), severity: l.severity, body: l.body };
}

export function deviceInput(d: DeviceLifecycle): EngineInput {
  return {
    type: 'device',
    deviceId: d.deviceId,
    ts: Number(d.timestampMs),
    deviceType: d.deviceType,
    labels: d.labels,
    removed: d.kind === 'REMOVED',
  };
}
