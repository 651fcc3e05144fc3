// Generated from schemas/*.avsc by `npm run codegen`. Do not edit.

/** A transition of an alert (rule x device): one event per change of state, so the topic (and the alerts table) is the full state history. Topic sentio.alerts.events.v1, keyed by deviceId (or ruleId for fleet-wide alerts). */
export interface AlertEvent {
  /** Unique id of this event. */
  eventId: string;
  /** Deduplication key: the same condition on the same device keeps its alertId. */
  alertId: string;
  /** When the state changed, milliseconds since the Unix epoch. */
  timestampMs: number;
  /** Coarse state for v1 readers: FIRING while the alert notifies (firing, no data, error), RESOLVED otherwise (inactive, pending, resolved), ACKNOWLEDGED for an acknowledgement. See status. */
  state: AlertState;
  /** Three-level severity for v1 readers (CRITICAL: critical or major; WARNING: minor or warning). See level. */
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
  /** The precise new state; null in events written before v2 (read state). */
  status: null | AlertStatus;
  /** The state before this transition. */
  previousStatus: null | AlertStatus;
  /** Severity on five levels, after context (see severityReason). */
  level: null | AlertLevel;
  /** Why the severity is what it is: the rule's base and what raised it. */
  severityReason: string;
  /** Number of this transition for the alert; eventId is alertId:sequence. */
  sequence: number;
  /** The observed value that decided the transition. */
  value: null | number;
  /** Too many transitions in the rule's flapping window: notifications are held. */
  flapping: boolean;
  /** Name of the rule. */
  ruleName: string;
  /** Rendered annotations (summary, description, explanation, severity_reason...). */
  annotations: Record<string, string>;
  /** Who acknowledged (ACKNOWLEDGED events). */
  actor: null | string;
  /** Who is assigned to the alert (ACKNOWLEDGED events). */
  assignee: null | string;
  /** The acknowledgement's comment. */
  comment: null | string;
}

/** Alert state. */
export type AlertState = 'FIRING' | 'RESOLVED' | 'ACKNOWLEDGED';

/** Alert severity. */
export type AlertSeverity = 'INFO' | 'WARNING' | 'CRITICAL';

/** What raised the alert. */
export type AlertOrigin = 'RULE' | 'ANOMALY' | 'FORECAST';

/** The alert's precise state (v2). */
export type AlertStatus = 'INACTIVE' | 'PENDING' | 'FIRING' | 'RESOLVED' | 'NODATA' | 'ERROR' | 'ACKNOWLEDGED';

/** Five-level severity (v2). */
export type AlertLevel = 'INFO' | 'WARNING' | 'MINOR' | 'MAJOR' | 'CRITICAL';

/** A revision of an alert rule. Topic sentio.alerts.rules.v1 (compacted, keyed by ruleId): the latest record per rule is its current definition, so the topic is the source of truth for rules. */
export interface AlertRuleRecord {
  /** Stable id of the rule (lowercase, digits, . _ -). */
  ruleId: string;
  /** Increases by one with every change of the rule. */
  revision: number;
  /** Human name, also the alertname label of its alerts. */
  name: string;
  /** Kind of condition, for listing without parsing the definition. */
  kind: AlertRuleKind;
  /** A paused rule is not evaluated; its alerts resolve. */
  paused: boolean;
  /** The rule was deleted; its alerts resolve. */
  deleted: boolean;
  /** The full rule as JSON in the rule model documented in the README (condition, selector, severity, for, keepFiringFor, cooldown, flapping, labels, annotations); validated again by every reader. */
  definition: string;
  /** API (REST, GraphQL) or a provisioned YAML file. */
  source: AlertRuleSource;
  /** The YAML file of a provisioned rule. */
  sourceFile: null | string;
  /** When this revision was made, milliseconds since the Unix epoch. */
  updatedAtMs: number;
  /** User, API key or 'provisioning' that made it. */
  updatedBy: string;
}

/** Kind of the rule's condition. */
export type AlertRuleKind = 'THRESHOLD' | 'NODATA' | 'ANOMALY' | 'FORECAST' | 'LOG' | 'COMPOSITE' | 'UNKNOWN';

/** Where the revision came from. */
export type AlertRuleSource = 'API' | 'PROVISIONED';

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
  /** Kind of detector that raised the anomaly (window-ae, flatline, univariate, ...), when the producer names it (added in v2; records written with v1 read as null). */
  detector?: null | string;
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
