/** The API's shapes as the console reads them (GraphQL selections below ask for exactly these fields). */
export interface Label {
  key: string;
  value: string;
}

export interface LatestValue {
  metric: string;
  value: number | null;
  unit: string;
  quality: string;
  ts: string;
}

export interface Device {
  deviceId: string;
  lastEvent: string;
  deviceType: string;
  vendor: string;
  model: string;
  connector: string;
  online: boolean;
  removed: boolean;
  labels: Label[];
  metrics: Array<{ name: string; unit: string }>;
  updatedAt: string;
  lastSeen: string | null;
  latest: LatestValue[];
}

export interface Series {
  device: string;
  metric: string;
  agg: string;
  resolution: string;
  stepMs: number;
  from: string;
  to: string;
  points: Array<{ ts: string; value: number }>;
}

export interface LogRecord {
  ts: string;
  deviceId: string;
  severity: string;
  body: string;
  traceId: string;
  spanId: string;
  source: string;
  eventId: string;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  serviceName: string;
  deviceId: string;
  kind: string;
  startTime: string;
  startTimeUs: number;
  durationUs: number;
  status: string;
  statusMessage: string;
  attributes: Label[];
}

export interface Anomaly {
  ts: string;
  deviceId: string;
  windowStart: string;
  windowEnd: string;
  score: number;
  threshold: number;
  modelVersion: string;
  contributions: Array<{ metric: string; error: number }>;
}

export interface DeviceAnomalyScore {
  deviceId: string;
  maxScore: number;
  anomalies: number;
  lastAnomaly: string;
  modelVersion: string;
}

export interface Forecast {
  ts: string;
  deviceId: string;
  metric: string;
  points: Array<{ ts: string; value: number; lower: number; upper: number }>;
  intervalLevel: number;
  limitLower: number | null;
  limitUpper: number | null;
  timeToFailureMs: number | null;
  risk: string;
  modelVersion: string;
}

export interface SystemStatus {
  status: string;
  components: Array<{ name: string; state: string; detail: string }>;
  consumerGroups: Array<{ groupId: string; lag: number; topics: Array<{ topic: string; lag: number }> }>;
  tables: Array<{ table: string; rows: number; bytesOnDisk: number; parts: number }>;
}

export const AGGREGATIONS = ['avg', 'min', 'max', 'sum', 'count', 'p50', 'p95', 'p99'] as const;
export const SEVERITIES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export const SPAN_STATUSES = ['UNSET', 'OK', 'ERROR'] as const;
