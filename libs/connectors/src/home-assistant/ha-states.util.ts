import { randomUUID } from 'node:crypto';
import type { DeviceLifecycle, DeviceLogRecord, LifecycleKind, TelemetrySample } from '@sentio/events';
import { stableEventId } from '../event-id.util.js';
import { sampleProblem } from '../sample-checks.util.js';
import type { HomeAssistantConfig } from './home-assistant.config.js';

/** One entity's state as Home Assistant's REST API and state_changed events carry it. */
export interface HaState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed: string;
  last_updated: string;
}

/** Home Assistant's placeholders for "no value": the entity is gone from its integration, or not read yet. */
export const UNAVAILABLE = 'unavailable';
export const UNKNOWN = 'unknown';

export function parseState(value: unknown): HaState | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const s = value as Partial<HaState>;
  if (typeof s.entity_id !== 'string' || typeof s.state !== 'string') return undefined;
  return {
    entity_id: s.entity_id,
    state: s.state,
    attributes: s.attributes !== null && typeof s.attributes === 'object' ? s.attributes : {},
    last_changed: typeof s.last_changed === 'string' ? s.last_changed : '',
    last_updated: typeof s.last_updated === 'string' ? s.last_updated : '',
  };
}

/** Home Assistant's entity id: `<domain>.<object id>`, each lower-case letters, digits and underscores. */
const ENTITY_ID = /^[a-z0-9_]+\.[a-z0-9_]+$/;

export function validEntityId(entityId: string): boolean {
  return ENTITY_ID.test(entityId);
}

export function domainOf(entityId: string): string {
  return entityId.slice(0, entityId.indexOf('.'));
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether an entity is taken: its domain listed (or none listed), an include glob matching, no exclude. */
export function entityFilter(
  config: Pick<HomeAssistantConfig, 'domains' | 'include' | 'exclude'>,
): (entityId: string) => boolean {
  const domains = new Set(config.domains);
  const include = config.include.map(globToRegExp);
  const exclude = config.exclude.map(globToRegExp);
  return (entityId) =>
    (domains.size === 0 || domains.has(domainOf(entityId))) &&
    (include.length === 0 || include.some((r) => r.test(entityId))) &&
    !exclude.some((r) => r.test(entityId));
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * The metric an entity reports, if it is a measurement: it has a unit of measurement or a state class
 * (Home Assistant's own marks of one). The metric is the device class (`temperature`), else `value`; the
 * device is the entity.
 */
export function metricOf(state: HaState): { metric: string; unit: string | null } | undefined {
  const unit = state.attributes['unit_of_measurement'];
  if (typeof unit !== 'string' && typeof state.attributes['state_class'] !== 'string') return undefined;
  const deviceClass = state.attributes['device_class'];
  const metric = typeof deviceClass === 'string' && /^[a-z0-9_]+$/.test(deviceClass) ? deviceClass : 'value';
  return { metric, unit: typeof unit === 'string' && unit !== '' ? unit : null };
}

/** A measurement entity's state as a number; undefined for unavailable, unknown or any other text. */
export function readingOf(
  state: HaState,
): { metric: string; unit: string | null; value: number } | undefined {
  const metric = metricOf(state);
  if (!metric || !NUMBER.test(state.state.trim())) return undefined;
  return { ...metric, value: Number(state.state) };
}

/**
 * Why a measurement entity's state cannot be a sample: it has a unit or state class (so Home Assistant
 * itself holds it to be numeric), but its state is no number and not `unavailable` or `unknown`.
 */
export function readingProblem(state: HaState): string | undefined {
  if (!metricOf(state) || state.state === UNAVAILABLE || state.state === UNKNOWN) return undefined;
  if (NUMBER.test(state.state.trim())) return undefined;
  return `${state.entity_id} is a measurement (unit or state class) but its state ${JSON.stringify(state.state.slice(0, 100))} is not a number`;
}

/** A reading's time: when Home Assistant last wrote the state; epoch milliseconds, or undefined if unparseable. */
export function updatedMs(state: HaState): number | undefined {
  const ms = Date.parse(state.last_updated);
  return Number.isFinite(ms) ? ms : undefined;
}

/** An entity's labels: the connector's, and its friendly name when it has one. */
export function stateLabels(state: HaState, labels: Record<string, string>): Record<string, string> {
  const friendly = state.attributes['friendly_name'];
  return typeof friendly === 'string' ? { ...labels, friendly_name: friendly } : { ...labels };
}

/**
 * The state's sample, if it is a measurement; an Error saying why a measurement state cannot be one
 * (no number, or a value the ingest sink would refuse); undefined for anything else.
 */
export function stateSample(
  state: HaState,
  now: number,
  source: string,
  labels: Record<string, string>,
): TelemetrySample | Error | undefined {
  const unreadable = readingProblem(state);
  if (unreadable) return new Error(unreadable);
  const reading = readingOf(state);
  if (!reading) return undefined;
  const timestampMs = updatedMs(state) ?? now;
  const sample: TelemetrySample = {
    // The same state seen in a snapshot after a reconnect and in an event keeps one id.
    eventId: stableEventId(source, state.entity_id, reading.metric, timestampMs, reading.value),
    deviceId: state.entity_id,
    timestampMs,
    metric: reading.metric,
    value: reading.value,
    unit: reading.unit,
    quality: 'GOOD',
    labels: stateLabels(state, labels),
    source,
  };
  const problem = sampleProblem(sample, now);
  return problem ? new Error(problem) : sample;
}

/** What an entity's lifecycle events carry; a change of it is an UPDATED event. */
export function lifecycleSignature(state: HaState): string {
  const metric = metricOf(state);
  return JSON.stringify({
    friendlyName: state.attributes['friendly_name'] ?? null,
    deviceClass: state.attributes['device_class'] ?? null,
    metrics: metric ? [{ name: metric.metric, unit: metric.unit }] : [],
  });
}

export function stateLifecycle(
  entityId: string,
  kind: LifecycleKind,
  online: boolean,
  signature: string,
  timestampMs: number,
  source: string,
  labels: Record<string, string>,
): DeviceLifecycle {
  const meta = JSON.parse(signature) as { friendlyName: unknown; metrics: DeviceLifecycle['metrics'] };
  return {
    eventId: randomUUID(),
    deviceId: entityId,
    timestampMs,
    kind,
    deviceType: domainOf(entityId),
    vendor: null,
    model: null,
    connector: source,
    online,
    labels:
      typeof meta.friendlyName === 'string' ? { ...labels, friendly_name: meta.friendlyName } : { ...labels },
    metrics: meta.metrics,
  };
}

/** A state change of an entity that is no measurement, as a log record. */
export function stateLog(
  next: HaState,
  previous: HaState | undefined,
  now: number,
  source: string,
  labels: Record<string, string>,
): DeviceLogRecord {
  const timestampMs = updatedMs(next) ?? now;
  const attributes: Record<string, string> = { ...stateLabels(next, labels), state: next.state };
  if (previous) attributes['old_state'] = previous.state;
  return {
    eventId: stableEventId(source, next.entity_id, 'state', timestampMs, next.state),
    deviceId: next.entity_id,
    timestampMs,
    severity: 'INFO',
    body: previous
      ? `${next.entity_id} changed from ${previous.state} to ${next.state}`
      : `${next.entity_id} is ${next.state}`,
    attributes,
    traceId: null,
    spanId: null,
    source,
  };
}
