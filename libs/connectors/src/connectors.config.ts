import { readFileSync } from 'node:fs';
import { defineConfigSection } from '@sentio/config';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { connectorTypes, type ConnectorConfig } from './connector-types.util.js';

export interface ConnectorsConfig {
  file: string | undefined;
  connectors: ConnectorConfig[];
}

const instanceSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lowercase name: letters, digits, _ and -'),
  type: z.enum(Object.keys(connectorTypes) as [keyof typeof connectorTypes]),
});

/**
 * Validates a connectors file: `connectors:` lists instances, each checked against its own type's schema,
 * and every problem names the connector, the key and what was expected (libs/config's style).
 */
export function parseConnectors(text: string): { connectors: ConnectorConfig[]; problems: string[] } {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return { connectors: [], problems: [`not valid YAML: ${(error as Error).message}`] };
  }
  const list = (document as { connectors?: unknown } | null)?.connectors;
  if (!Array.isArray(list)) {
    return { connectors: [], problems: ['connectors: expected a list of connectors'] };
  }
  const problems: string[] = [];
  const connectors: ConnectorConfig[] = [];
  const names = new Set<string>();
  list.forEach((raw: unknown, index) => {
    const head = instanceSchema.safeParse(raw);
    if (!head.success) {
      problems.push(...issues(`connector #${index + 1}`, head.error, raw));
      return;
    }
    const { name, type } = head.data;
    const who = `connector "${name}" (${type})`;
    if (names.has(name)) problems.push(`${who} name: expected a unique name, got a second "${name}"`);
    names.add(name);
    const parsed = (connectorTypes[type].configSchema as z.ZodType<ConnectorConfig, unknown>).safeParse(raw);
    if (parsed.success) connectors.push(parsed.data);
    else problems.push(...issues(who, parsed.error, raw));
  });
  return { connectors, problems };
}

function issues(who: string, error: z.ZodError, raw: unknown): string[] {
  return error.issues.map((issue) => {
    const given = issue.path.reduce<unknown>(
      (node, key) => (node !== null && typeof node === 'object' ? (node as never)[key] : undefined),
      raw,
    );
    const got =
      given === undefined || issue.code === 'unrecognized_keys' ? '' : `, got ${JSON.stringify(given)}`;
    const key = issue.path.length > 0 ? issue.path.join('.') : '(connector)';
    return `${who} ${key}: ${issue.message}${got}`;
  });
}

/**
 * The `connectors` section: the YAML file that lists connector instances and their devices. Problems in
 * the file are reported through the config loader, so a bad file stops start-up (exit 78) like any other
 * bad setting.
 */
export const connectorsConfigSection = defineConfigSection(
  'connectors',
  z.object({ file: z.string().min(1).optional() }).transform((value, ctx): ConnectorsConfig => {
    if (!value.file) return { file: undefined, connectors: [] };
    let text: string;
    try {
      text = readFileSync(value.file, 'utf8');
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['file'], message: (error as Error).message });
      return z.NEVER;
    }
    const { connectors, problems } = parseConnectors(text);
    for (const problem of problems) {
      ctx.addIssue({ code: 'custom', path: ['file'], message: `${value.file}: ${problem}` });
    }
    return { file: value.file, connectors };
  }),
  { file: 'SENTIO_CONNECTORS_FILE' },
);
