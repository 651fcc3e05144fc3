import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { ConfigOf, ConfigSection } from './config-section.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A YAML file whose top-level keys are section keys; environment variables win over it. */
  file?: string;
}

/**
 * Reads every section from the file and the environment, validates all of them, and reports every problem
 * at once, naming the key, the variable that set it and what was expected.
 */
export function loadConfig<const Sections extends readonly ConfigSection[]>(
  sections: Sections,
  options: LoadConfigOptions = {},
): ConfigOf<Sections> {
  const env = options.env ?? process.env;
  const fromFile = readConfigFile(options.file ?? env['SENTIO_CONFIG_FILE']);
  const problems: string[] = [];
  const result: Record<string, unknown> = {};

  for (const section of sections) {
    const raw = structuredClone(asObject(fromFile[section.key]));
    for (const [path, variable] of Object.entries(section.env)) {
      const value = env[variable];
      if (value === undefined || value === '') continue;
      setPath(raw, path, value);
    }
    const parsed = (section.schema as z.ZodType).safeParse(raw);
    if (parsed.success) {
      result[section.key] = parsed.data;
      continue;
    }
    for (const issue of parsed.error.issues) {
      const path = issue.path.join('.');
      const variable = variableFor(section, issue.path.map(String));
      const where = variable ? ` (env ${variable})` : '';
      const given = getPath(raw, path);
      const got = given === undefined ? '' : `, got ${JSON.stringify(given)}`;
      problems.push(`${section.key}.${path}${where}: ${issue.message}${got}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<Sections>;
}

/** The variable behind a field, or behind the list or object the field sits in. */
function variableFor(section: ConfigSection, path: string[]): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const variable = section.env[path.slice(0, length).join('.')];
    if (variable) return variable;
  }
  return undefined;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`SENTIO_CONFIG_FILE ${file}: ${(error as Error).message}`]);
  }
  try {
    return asObject(parseYaml(text));
  } catch (error) {
    throw new ConfigError([`SENTIO_CONFIG_FILE ${file}: not valid YAML: ${(error as Error).message}`]);
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] = asObject(node[part]);
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function getPath(target: Record<string, unknown>, path: string): unknown {
  let node: unknown = target;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
