import { readFileSync } from 'node:fs';
import { configFields, defineConfigSection } from '@sentio/config';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { connectorTypes, type ConnectorConfig } from './connector-types.util.js';

/** Several connector processes sharing one connectors file: see ConnectorsGroup. */
export interface ConnectorsGroupConfig {
  /** The Kafka consumer group the processes join; every process of the group uses the same file. */
  id: string;
  /** Partitions of the coordination topic: devices are hashed onto them, members get whole slots. */
  slots: number;
  /** How long a silent process keeps its devices: the upper part of the take-over time. */
  sessionTimeoutMs: number;
  /** A device moving from one live process to another starts this long after the move (its last read ends). */
  handoverMs: number;
}

export interface ConnectorsConfig {
  file: string | undefined;
  connectors: ConnectorConfig[];
  /** Without a group (the default) the process reads every device of the file. */
  group?: ConnectorsGroupConfig | undefined;
}

const groupSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9._-]+$/, 'expected a Kafka group id: letters, digits, ., _ and -')
      .optional(),
    slots: configFields
      .positiveInt()
      .pipe(z.number().max(1000, 'expected at most 1000 (partitions of one topic)'))
      .default(60),
    sessionTimeoutMs: configFields
      .positiveInt()
      .pipe(z.number().min(6000, 'expected at least 6000 (the broker minimum)'))
      .default(10_000),
    handoverMs: configFields.nonNegativeInt().default(2000),
  })
  .default({ slots: 60, sessionTimeoutMs: 10_000, handoverMs: 2000 });

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
  z
    .object({ file: z.string().min(1).optional(), group: groupSchema })
    .transform((value, ctx): ConnectorsConfig => {
      const group = value.group.id ? { ...value.group, id: value.group.id } : undefined;
      if (!value.file) return { file: undefined, connectors: [], group };
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
      return { file: value.file, connectors, group };
    }),
  {
    file: 'SENTIO_CONNECTORS_FILE',
    'group.id': 'SENTIO_CONNECTORS_GROUP',
    'group.slots': 'SENTIO_CONNECTORS_GROUP_SLOTS',
    'group.sessionTimeoutMs': 'SENTIO_CONNECTORS_GROUP_SESSION_TIMEOUT_MS',
    'group.handoverMs': 'SENTIO_CONNECTORS_GROUP_HANDOVER_MS',
  },
);
