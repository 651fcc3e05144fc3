// Generated from schemas/*.avsc by `npm run codegen`. Do not edit.

/** A change in the state of a deduplicated alert. Topic sentio.alerts.events.v1, keyed by deviceId (or ruleId for fleet-wide alerts). */
export interface AlertEvent {
  /** Unique id of this event. */
  eventId: string;
  /** Deduplication key: the same condition on the same device keeps its alertId. */
  alertId: string;
  /** When the state changed, milliseconds since the Unix epoch. */
  timestampMs: number;
  /** New state of the alert. */
  state: AlertState;
  /** Severity. */
  severity: AlertSeverity;
  /** A threshold rule, an anomaly, or a forecast. */
  origin: AlertOrigin;
  /** Rule (or model) that raised the alert. */
  ruleId: string;
  /** Device, when the alert concerns one. */
  deviceId: null | string;
  /** One-line summary for the operator. */
  title: string;
  /** What was observed and why it matters. */
  description: string;
  /** Labels copied from the device and the rule. */
  labels: Record<string, string>;
}

/** Alert state. */
export type AlertState = 'FIRING' | 'RESOLVED' | 'ACKNOWLEDGED';

/** Alert severity. */
export type AlertSeverity = 'INFO' | 'WARNING' | 'CRITICAL';

/** What raised the alert. */
export type AlertOrigin = 'RULE' | 'ANOMALY' | 'FORECAST';

/** A window of an asset's metrics that a detector model scored above its threshold. Topic sentio.detectors.anomalies.v1, keyed by deviceId. */
export interface Anomaly {
  /** Unique id; derived from model, asset and window so a re-score of the same window repeats it. */
  eventId: string;
  /** Device the window belongs to; also the Kafka key. */
  deviceId: string;
  /** Asset (group of metrics) the model covers. */
  assetId: string;
  /** When the anomaly was detected (end of the window), milliseconds since the Unix epoch. */
  timestampMs: number;
  /** First instant of the scored window. */
  windowStartMs: number;
  /** Last instant of the scored window. */
  windowEndMs: number;
  /** Anomaly score (reconstruction error of the window). */
  score: number;
  /** Threshold the score was compared with. */
  threshold: number;
  /** Metrics ordered by contribution, largest first. */
  contributions: Array<MetricContribution>;
  /** Model that scored the window. */
  modelId: string;
  /** Version of that model. */
  modelVersion: string;
}

/** How much one metric contributed to the score. */
export interface MetricContribution {
  /** Metric name. */
  metric: string;
  /** Reconstruction error of this metric over the window. */
  error: number;
}

/** A change in a device's existence or availability. Topic sentio.devices.lifecycle.v1 (compacted), keyed by deviceId. Every event carries the device's full current metadata, so the compacted topic alone rebuilds the inventory. */
export interface DeviceLifecycle {
  /** Unique id of this event (UUID). */
  eventId: string;
  /** Stable device id; also the Kafka key. */
  deviceId: string;
  /** When the change was observed, milliseconds since the Unix epoch (UTC). */
  timestampMs: number;
  /** DISCOVERED: first seen; UPDATED: metadata changed; REMOVED: gone for good; ONLINE/OFFLINE: availability. */
  kind: LifecycleKind;
  /** Kind of device, e.g. pump, motor, environment_sensor. */
  deviceType: null | string;
  /** Manufacturer. */
  vendor: null | string;
  /** Model designation. */
  model: null | string;
  /** Connector instance that reports the device (mqtt:plant-a, simulator). */
  connector: string;
  /** Availability after this event. */
  online: boolean;
  /** Device labels, e.g. site, line, asset. */
  labels: Record<string, string>;
  /** Metrics the device exposes, with units. */
  metrics: Array<MetricDescriptor>;
}

/** What changed. */
export type LifecycleKind = 'DISCOVERED' | 'UPDATED' | 'REMOVED' | 'ONLINE' | 'OFFLINE';

/** A metric the device exposes. */
export interface MetricDescriptor {
  /** Metric name, as in TelemetrySample.metric. */
  name: string;
  /** Unit symbol. */
  unit: null | string;
}

/** A log line from a device, gateway or connector. Topic sentio.logs.records.v1, keyed by deviceId. */
export interface DeviceLogRecord {
  /** Unique id of this event (UUID). */
  eventId: string;
  /** Device (or connector instance) the line is about; also the Kafka key. */
  deviceId: string;
  /** When the line was emitted, milliseconds since the Unix epoch (UTC). */
  timestampMs: number;
  /** Severity of the line. */
  severity: Severity;
  /** The log message. */
  body: string;
  /** Structured attributes of the line. */
  attributes: Record<string, string>;
  /** Trace the line belongs to (32 hex digits), if any. */
  traceId: null | string;
  /** Span the line belongs to (16 hex digits), if any. */
  spanId: null | string;
  /** What produced the event: connector instance, simulator, otlp, or replay. */
  source: string;
}

/** OpenTelemetry severity ranges, by name. */
export type Severity = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

/** A forecast of one metric of one device over a horizon, with time to failure when the metric has limits. Topic sentio.detectors.forecasts.v1, keyed by deviceId. */
export interface Forecast {
  /** Unique id of this event. */
  eventId: string;
  /** Device; also the Kafka key. */
  deviceId: string;
  /** Metric forecast. */
  metric: string;
  /** When the forecast was issued (last observation used), milliseconds since the Unix epoch. */
  timestampMs: number;
  /** Forecast points over the horizon, in time order. */
  points: Array<ForecastPoint>;
  /** Coverage of the prediction interval, e.g. 0.9. */
  intervalLevel: number;
  /** Lower limit of the metric, if configured. */
  limitLower: null | number;
  /** Upper limit of the metric, if configured. */
  limitUpper: null | number;
  /** Time until the forecast or its interval crosses a limit; null when it does not within the horizon. */
  timeToFailureMs: null | number;
  /** HIGH: the point forecast crosses; MEDIUM: the interval crosses; LOW: near a limit; NONE otherwise. */
  risk: Risk;
  /** Confidence in the time to failure, 0..1. */
  confidence: null | number;
  /** Mean absolute scaled error of this model against seasonal naive on recent data. */
  mase: null | number;
  /** Forecasting model. */
  modelId: string;
  /** Version of that model. */
  modelVersion: string;
}

/** The forecast at one future instant. */
export interface ForecastPoint {
  /** Future instant. */
  timestampMs: number;
  /** Point forecast. */
  value: number;
  /** Lower bound of the prediction interval. */
  lower: number;
  /** Upper bound of the prediction interval. */
  upper: number;
}

/** Risk of crossing a limit. */
export type Risk = 'NONE' | 'LOW' | 'MEDIUM' | 'HIGH';

/** One OpenTelemetry span. Topic sentio.traces.spans.v1, keyed by deviceId when the span names one, else by traceId, so a trace's spans stay in order. */
export interface Span {
  /** Unique id of this event (UUID). */
  eventId: string;
  /** Trace id, 32 lowercase hex digits. */
  traceId: string;
  /** Span id, 16 lowercase hex digits. */
  spanId: string;
  /** Parent span id; null for a root span. */
  parentSpanId: null | string;
  /** Operation name. */
  name: string;
  /** The service.name resource attribute. */
  serviceName: string;
  /** Device the span concerns, if any. */
  deviceId: null | string;
  /** Span kind. */
  kind: SpanKind;
  /** Start, microseconds since the Unix epoch (OTLP nanoseconds / 1000: exact in a JavaScript number). */
  startTimeUs: number;
  /** Duration in microseconds. */
  durationUs: number;
  /** Span status. */
  statusCode: StatusCode;
  /** Status description, for ERROR. */
  statusMessage: null | string;
  /** Span and resource attributes, values rendered as strings. */
  attributes: Record<string, string>;
  /** Span events in time order. */
  events: Array<SpanEvent>;
  /** What produced the event: otlp, connector instance, or replay. */
  source: string;
}

/** OpenTelemetry span kind. */
export type SpanKind = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

/** OpenTelemetry status code. */
export type StatusCode = 'UNSET' | 'OK' | 'ERROR';

/** A timed annotation on a span. */
export interface SpanEvent {
  /** When, microseconds since the Unix epoch. */
  timeUs: number;
  /** Event name. */
  name: string;
  /** Event attributes. */
  attributes: Record<string, string>;
}

/** One measured value of one metric of one device at one instant. Topic sentio.telemetry.samples.v1, keyed by deviceId. */
export interface TelemetrySample {
  /** Unique id of this event (UUID); the same sample re-sent keeps its id. */
  eventId: string;
  /** Stable id of the device that produced the value; also the Kafka key. */
  deviceId: string;
  /** When the value was measured, milliseconds since the Unix epoch (UTC), device time if the device reports it. */
  timestampMs: number;
  /** Metric name in snake_case, e.g. bearing_temperature. */
  metric: string;
  /** The measured value; null when quality is BAD and no value could be read. */
  value: null | number;
  /** UCUM-style unit symbol, e.g. degC, bar, mm/s; null when unitless or unknown. */
  unit: null | string;
  /** GOOD: trusted; UNCERTAIN: usable with care (e.g. sensor out of calibration); BAD: not usable (read failure, timeout). */
  quality: Quality;
  /** Free-form dimensions, e.g. site, line, asset. */
  labels: Record<string, string>;
  /** What produced the event: connector instance (mqtt:plant-a), simulator, or replay. */
  source: string;
}

/** OPC UA-style quality of a value. */
export type Quality = 'GOOD' | 'UNCERTAIN' | 'BAD';
