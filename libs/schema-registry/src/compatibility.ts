import avro from 'avsc';
import { ErrorCode, RegistryError } from './registry-error.js';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

export interface ParsedAvroSchema {
  readonly type: avro.Type;
  /** The schema as stored and served: the client's JSON without insignificant whitespace. */
  readonly text: string;
  /**
   * Identity used to reuse ids across subjects. Key order inside a JSON object carries no meaning in Avro,
   * so keys are sorted; docs and defaults are kept because two schemas differing there are not the same schema.
   */
  readonly canonical: string;
}

export function parseAvroSchema(text: string): ParsedAvroSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RegistryError(
      ErrorCode.invalidSchema,
      `Invalid schema: not valid JSON: ${(error as Error).message}`,
    );
  }
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new RegistryError(ErrorCode.invalidSchema, `Invalid schema: ${(error as Error).message}`);
  }
  return { type, text: JSON.stringify(json), canonical: sortedJson(json) };
}

function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Why `reader` cannot decode data written with `writer`, or undefined when Avro schema resolution succeeds. */
export function readProblem(reader: avro.Type, writer: avro.Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export interface CompatibilityResult {
  readonly compatible: boolean;
  readonly messages: string[];
}

/**
 * Decides whether `candidate` may follow `previous` (oldest first) under `level`. Non-transitive levels only
 * look at the newest previous schema, as Confluent does.
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  candidate: avro.Type,
  previous: readonly avro.Type[],
): CompatibilityResult {
  if (level === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
  const transitive = level.endsWith('_TRANSITIVE');
  const against = transitive ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const old of against) {
    if (backward) {
      const problem = readProblem(candidate, old);
      if (problem) messages.push(`new schema cannot read data written with an existing schema: ${problem}`);
    }
    if (forward) {
      const problem = readProblem(old, candidate);
      if (problem)
        messages.push(`an existing schema cannot read data written with the new schema: ${problem}`);
    }
  }
  return { compatible: messages.length === 0, messages };
}
