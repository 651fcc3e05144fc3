import type { z } from 'zod';

/**
 * One lib's slice of the configuration: where it sits in the config file (`key`), what it must look like
 * (`schema`, with defaults), and which environment variable overrides which field (`env`).
 */
export interface ConfigSection<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly key: K;
  readonly schema: S;
  readonly env: Readonly<Record<string, string>>;
}

export function defineConfigSection<K extends string, S extends z.ZodType>(
  key: K,
  schema: S,
  env: Record<string, string> = {},
): ConfigSection<K, S> {
  return { key, schema, env };
}

export type ConfigOf<Sections extends readonly ConfigSection[]> = {
  [S in Sections[number] as S['key']]: z.infer<S['schema']>;
};
