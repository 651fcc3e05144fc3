import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestSchema, listEvents } from '../schema-files.js';
import { avroToTypeScript } from './avro-to-typescript.js';

export const generatedTypesFile = join(
  dirname(fileURLToPath(import.meta.url)),
  '../generated/events.type.ts',
);

/**
 * A field added by a later schema version with `"producerOptional": true` (and a default, as compatibility
 * demands) is optional for producers: code written before it keeps compiling, and the encoder writes the
 * default for a missing field. Decoded records always carry it.
 */
export function renderEventTypes(): string {
  const optional = new Set<string>();
  for (const event of listEvents()) {
    const { schema } = latestSchema(event);
    const record = schema.name.slice(schema.name.lastIndexOf('.') + 1);
    const fields = (schema['fields'] ?? []) as Array<{ name: string; producerOptional?: unknown }>;
    for (const f of fields) if (f.producerOptional === true) optional.add(`${record}.${f.name}`);
  }
  return avroToTypeScript(
    listEvents().map((event) => latestSchema(event).schema),
    (record, field) => optional.has(`${record}.${field}`),
  );
}
