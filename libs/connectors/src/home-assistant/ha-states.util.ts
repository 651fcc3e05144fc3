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
