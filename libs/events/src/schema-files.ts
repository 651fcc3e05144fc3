import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** schemas/ at the repository root: one folder per event, one `vN.avsc` per version. */
export const schemasDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../schemas');

export interface SchemaVersion {
  event: string;
  version: number;
  schema: { name: string; namespace?: string } & Record<string, unknown>;
}

export function readSchemaVersions(event: string, dir = schemasDir): SchemaVersion[] {
  return readdirSync(join(dir, event))
    .map((file) => /^v(\d+)\.avsc$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      event,
      version: Number(m[1]),
      schema: JSON.parse(readFileSync(join(dir, event, m[0]), 'utf8')) as SchemaVersion['schema'],
    }))
    .sort((a, b) => a.version - b.version);
}

export function listEvents(dir = schemasDir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function latestSchema(event: string, dir = schemasDir): SchemaVersion {
  const versions = readSchemaVersions(event, dir);
  const latest = versions.at(-1);
  if (!latest) throw new Error(`no schema versions for event ${event} in ${dir}`);
  return latest;
}
