import type { MetricDescriptor } from '@sentio/events';

/** A value a device publishes in its state message, found in its definition's exposes. */
export interface ExposedValue {
  /** Where it sits in the state JSON: ['temperature'], or ['color', 'x'] under a composite. */
  path: string[];
  metric: string;
  unit: string | null;
  kind: 'numeric' | 'binary';
  valueOn?: unknown;
  valueOff?: unknown;
}

export interface Z2mDevice {
  ieeeAddress: string;
  friendlyName: string;
  type: string;
  vendor: string | null;
  model: string | null;
  description: string | null;
  values: ExposedValue[];
}

interface Expose {
  type?: string;
  property?: string;
  name?: string;
  unit?: string;
  access?: number;
  value_on?: unknown;
  value_off?: unknown;
  features?: Expose[];
}

/** Access bit 1: the property is published in the device's state message. */
const PUBLISHED = 1;

/**
 * Flattens Zigbee2MQTT exposes to the numeric and binary values of the state message. Specific exposes
 * (light, switch, climate...) group features that sit at the top level of the state; a composite nests
 * its features under its own property (color: {x, y}).
 */
export function exposedValues(exposes: Expose[], prefix: string[] = []): ExposedValue[] {
  const values: ExposedValue[] = [];
  for (const expose of exposes) {
    if (expose.features) {
      const nested = expose.type === 'composite' && expose.property ? [...prefix, expose.property] : prefix;
      values.push(...exposedValues(expose.features, nested));
      continue;
    }
    if (expose.type !== 'numeric' && expose.type !== 'binary') continue;
    if (!expose.property || (expose.access !== undefined && (expose.access & PUBLISHED) === 0)) continue;
    const path = [...prefix, expose.property];
    values.push({
      path,
      metric: path.join('_'),
      unit: expose.type === 'numeric' ? (expose.unit ?? null) : null,
      kind: expose.type,
      ...(expose.type === 'binary' && { valueOn: expose.value_on, valueOff: expose.value_off }),
    });
  }
  return values;
}

/**
 * Reads the retained `<base>/bridge/devices` list. The coordinator and devices without a definition
 * (unsupported, or still interviewing) publish nothing mappable and are left out.
 */
export function parseBridgeDevices(payload: unknown): Z2mDevice[] | Error {
  if (!Array.isArray(payload)) return new Error('bridge/devices is not a JSON array');
  const devices: Z2mDevice[] = [];
  // A list with one malformed entry is not Zigbee2MQTT's: taking the rest would mark the devices it
  // lacks as removed, so the whole list is refused and the known one kept.
  for (const [index, raw] of (payload as unknown[]).entries()) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return new Error(`bridge/devices[${index}] is not an object`);
    const entry = raw as Record<string, unknown>;
    for (const field of ['ieee_address', 'friendly_name'])
      if (typeof entry[field] !== 'string' || entry[field] === '')
        return new Error(
          `bridge/devices[${index}].${field} is ${JSON.stringify(entry[field]) ?? 'missing'}, expected a string`,
        );
    const definition = entry['definition'] as
      { model?: string; vendor?: string; description?: string; exposes?: Expose[] } | null | undefined;
    if (definition !== undefined && definition !== null && typeof definition !== 'object')
      return new Error(`bridge/devices[${index}].definition is not an object`);
    if (definition && definition.exposes !== undefined && !Array.isArray(definition.exposes))
      return new Error(`bridge/devices[${index}].definition.exposes is not an array`);
    if (entry['type'] === 'Coordinator' || !definition) continue;
    devices.push({
      ieeeAddress: entry['ieee_address'] as string,
      friendlyName: entry['friendly_name'] as string,
      type: String(entry['type'] ?? 'unknown'),
      vendor: definition.vendor ?? null,
      model: definition.model ?? null,
      description: definition.description ?? null,
      values: exposedValues(definition.exposes ?? []),
    });
  }
  return devices;
}

export function metricDescriptors(device: Z2mDevice): MetricDescriptor[] {
  return device.values.map((v) => ({ name: v.metric, unit: v.unit }));
}

/** The samples in one state message: numbers as they are, binaries as 1 (value_on) or 0 (value_off). */
export function stateValues(
  device: Z2mDevice,
  state: Record<string, unknown>,
): Array<{ value: ExposedValue; number: number }> {
  const out: Array<{ value: ExposedValue; number: number }> = [];
  for (const value of device.values) {
    let node: unknown = state;
    for (const key of value.path)
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (value.kind === 'numeric' && typeof node === 'number' && Number.isFinite(node)) {
      out.push({ value, number: node });
    } else if (value.kind === 'binary' && node !== undefined && node !== null) {
      // value_on may be false (a contact sensor's "open"): the definition decides, booleans only without one.
      const on = value.valueOn ?? true;
      const off = value.valueOff ?? false;
      if (node === on) out.push({ value, number: 1 });
      else if (node === off) out.push({ value, number: 0 });
    }
  }
  return out;
}

/**
 * Why exposed values in a state message cannot be samples: a numeric expose holding no finite number, a
 * binary one holding neither its value_on nor its value_off. Absent and null values are no problem.
 */
export function stateProblems(device: Z2mDevice, state: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const value of device.values) {
    let node: unknown = state;
    for (const key of value.path)
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node === undefined || node === null) continue;
    const where = value.path.join('.');
    const shown = JSON.stringify(node)?.slice(0, 100);
    if (value.kind === 'numeric' && !(typeof node === 'number' && Number.isFinite(node))) {
      problems.push(`${where} is ${shown}, expected a number`);
    } else if (
      value.kind === 'binary' &&
      node !== (value.valueOn ?? true) &&
      node !== (value.valueOff ?? false)
    ) {
      problems.push(
        `${where} is ${shown}, expected ${JSON.stringify(value.valueOn ?? true)} or ${JSON.stringify(value.valueOff ?? false)}`,
      );
    }
  }
  return problems;
}

/** `{"state":"online"}` (Zigbee2MQTT 1.22+ and 2.x) or the legacy plain `online`. */
export function parseAvailability(text: string): 'online' | 'offline' | Error {
  let state: unknown = text.trim();
  if (typeof state === 'string' && state.startsWith('{')) {
    try {
      state = (JSON.parse(state) as { state?: unknown }).state;
    } catch (error) {
      return new Error(`availability is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (state === 'online' || state === 'offline') return state;
  return new Error(`availability ${JSON.stringify(text.slice(0, 100))}: expected online or offline`);
}

/** `last_seen` (when the bridge's last_seen option is on) as epoch ms: ISO text or epoch number. */
export function lastSeenMs(state: Record<string, unknown>): number | undefined {
  const seen = state['last_seen'];
  if (typeof seen === 'number' && Number.isFinite(seen)) return seen;
  if (typeof seen === 'string') {
    const ms = Date.parse(seen);
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}
