/**
 * Reads `$.a.b[0].c` (or `a.b.0.c`) from a parsed JSON value. A path is a list of property names and
 * indices; nothing more of JSONPath is needed to pick one value out of a device's payload.
 */
export function parseJsonPath(path: string): Array<string | number> {
  const body = path.startsWith('$') ? path.slice(1) : `.${path}`;
  const parts: Array<string | number> = [];
  const token = /\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = token.exec(body))) {
    parts.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]!));
    end = token.lastIndex;
  }
  if (end !== body.length) throw new Error(`expected a path like $.a.b[0], got "${path}"`);
  return parts;
}

export function readPath(value: unknown, path: Array<string | number>): unknown {
  let node = value;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

const truthy = new Set(['true', '1', 'on', 'yes']);
const falsy = new Set(['false', '0', 'off', 'no']);

/** A plain-text payload as a number: `21.5`, ` 3 `. */
export function parseNumber(text: string): number | Error {
  const trimmed = text.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  return Number.isFinite(value)
    ? value
    : new Error(`payload ${JSON.stringify(text.slice(0, 100))} is not a number`);
}

/** A plain-text payload as 1 or 0: true/false, on/off, yes/no, 1/0, any case. */
export function parseBoolean(text: string): number | Error {
  const word = text.trim().toLowerCase();
  if (truthy.has(word)) return 1;
  if (falsy.has(word)) return 0;
  return new Error(`payload ${JSON.stringify(text.slice(0, 100))} is not a boolean`);
}

/** A JSON value as a sample value: numbers as they are, booleans as 1/0; anything else is an error. */
export function jsonValue(value: unknown, where: string): number | Error {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return new Error(`${where} is ${JSON.stringify(value)?.slice(0, 100)}, expected a number or boolean`);
}

export type TimestampFormat = 'ms' | 's' | 'iso';

/** A device timestamp as epoch milliseconds. */
export function parseTimestamp(value: unknown, format: TimestampFormat, where: string): number | Error {
  if (format === 'iso') {
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    return Number.isFinite(ms)
      ? ms
      : new Error(`${where} is ${JSON.stringify(value)}, expected an ISO 8601 time`);
  }
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    return new Error(
      `${where} is ${JSON.stringify(value)}, expected epoch ${format === 'ms' ? 'milliseconds' : 'seconds'}`,
    );
  }
  return Math.round(format === 's' ? n * 1000 : n);
}
