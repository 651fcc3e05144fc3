import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latestSchema, listEvents } from '../schema-files.js';
import { avroToTypeScript } from './avro-to-typescript.js';

export const generatedTypesFile = join(
  dirname(fileURLToPath(import.meta.url)),
  '../generated/events.type.ts',
);

export function renderEventTypes(): string {
  return avroToTypeScript(listEvents().map((event) => latestSchema(event).schema));
}
