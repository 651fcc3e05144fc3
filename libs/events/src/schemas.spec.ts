import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { generatedTypesFile, renderEventTypes } from './codegen/index.js';
import { eventStreams } from './event-catalogue.js';
import { listEvents, readSchemaVersions } from './schema-files.js';

/** BACKWARD: a consumer on the new schema reads what producers on the old one wrote. */
function backwardCompatible(newer: object, older: object): boolean {
  try {
    avro.Type.forSchema(newer as avro.Schema).createResolver(avro.Type.forSchema(older as avro.Schema));
    return true;
  } catch {
    return false;
  }
}

function documented(schema: unknown): string[] {
  const missing: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}[${i}]`));
    if (node === null || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['type'] === 'record' && !n['doc']) missing.push(path);
    if (Array.isArray(n['fields'])) {
      for (const f of n['fields'] as Array<Record<string, unknown>>) {
        if (!f['doc']) missing.push(`${path}.${String(f['name'])}`);
        walk(f['type'], `${path}.${String(f['name'])}`);
      }
    }
    for (const key of ['items', 'values', 'type']) if (typeof n[key] === 'object') walk(n[key], path);
  };
  walk(schema, '');
  return missing;
}

describe('schemas/', () => {
  const events = listEvents();

  it('has a schema for every event stream', () => {
    for (const s of Object.values(eventStreams)) expect(events).toContain(s.event);
  });

  it.each(events)('%s: every version parses and documents every record and field', (event) => {
    for (const { schema } of readSchemaVersions(event)) {
      expect(() => avro.Type.forSchema(schema as avro.Schema)).not.toThrow();
      expect(documented(schema)).toEqual([]);
    }
  });

  it.each(events)('%s: each version is BACKWARD compatible with the one before', (event) => {
    const versions = readSchemaVersions(event);
    expect(versions[0]?.version).toBe(1);
    for (let i = 1; i < versions.length; i++) {
      expect(versions[i]!.version, 'versions are consecutive').toBe(versions[i - 1]!.version + 1);
      expect(backwardCompatible(versions[i]!.schema, versions[i - 1]!.schema)).toBe(true);
    }
  });

  it('the compatibility check rejects a new field without a default', () => {
    const [v1] = readSchemaVersions('telemetry-sample');
    const broken = structuredClone(v1!.schema) as unknown as { fields: object[] };
    broken.fields.push({ name: 'site', type: 'string', doc: 'no default: old data cannot be read' });
    expect(backwardCompatible(broken, v1!.schema)).toBe(false);
    const evolved = structuredClone(v1!.schema) as unknown as { fields: object[] };
    evolved.fields.push({ name: 'site', type: ['null', 'string'], default: null, doc: 'with default' });
    expect(backwardCompatible(evolved, v1!.schema)).toBe(true);
  });

  it('the generated TypeScript types are up to date (run `npm run codegen`)', () => {
    expect(readFileSync(generatedTypesFile, 'utf8')).toBe(renderEventTypes());
  });
});
