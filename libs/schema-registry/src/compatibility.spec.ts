import { describe, expect, it } from 'vitest';
import { checkCompatibility, isCompatibilityLevel, parseAvroSchema } from './compatibility.js';
import { RegistryError } from './registry-error.js';

const record = (fields: unknown[]) =>
  JSON.stringify({ type: 'record', name: 'Reading', namespace: 'sentio', fields });
const v1 = parseAvroSchema(record([{ name: 'value', type: 'double' }])).type;
const withDefault = parseAvroSchema(
  record([
    { name: 'value', type: 'double' },
    { name: 'unit', type: 'string', default: 'C' },
  ]),
).type;
const withoutDefault = parseAvroSchema(
  record([
    { name: 'value', type: 'double' },
    { name: 'unit', type: 'string' },
  ]),
).type;
const renamedType = parseAvroSchema(record([{ name: 'value', type: 'string' }])).type;

describe('checkCompatibility', () => {
  it('accepts anything under NONE and anything as a first schema', () => {
    expect(checkCompatibility('NONE', renamedType, [v1]).compatible).toBe(true);
    expect(checkCompatibility('FULL_TRANSITIVE', renamedType, []).compatible).toBe(true);
  });

  it('BACKWARD: a new field needs a default so the new schema can read old data', () => {
    expect(checkCompatibility('BACKWARD', withDefault, [v1]).compatible).toBe(true);
    const rejected = checkCompatibility('BACKWARD', withoutDefault, [v1]);
    expect(rejected.compatible).toBe(false);
    expect(rejected.messages[0]).toMatch(/cannot read/);
  });

  it('FORWARD: old readers ignore added fields, but need defaults for removed ones', () => {
    expect(checkCompatibility('FORWARD', withoutDefault, [v1]).compatible).toBe(true);
    expect(checkCompatibility('FORWARD', v1, [withoutDefault]).compatible).toBe(false);
    expect(checkCompatibility('FORWARD', v1, [withDefault]).compatible).toBe(true);
  });

  it('FULL requires both directions', () => {
    expect(checkCompatibility('FULL', withDefault, [v1]).compatible).toBe(true);
    expect(checkCompatibility('FULL', withoutDefault, [v1]).compatible).toBe(false);
  });

  it('non-transitive levels only look at the latest schema; transitive ones at all', () => {
    // double cannot be read as string, so the oldest schema is what makes the transitive check fail.
    const history = [renamedType, v1];
    expect(checkCompatibility('BACKWARD', withDefault, history).compatible).toBe(true);
    expect(checkCompatibility('BACKWARD_TRANSITIVE', withDefault, history).compatible).toBe(false);
  });

  it('allows type promotion in the reading direction only', () => {
    const asLong = parseAvroSchema(record([{ name: 'value', type: 'long' }])).type;
    expect(checkCompatibility('BACKWARD', v1, [asLong]).compatible).toBe(true);
    expect(checkCompatibility('FORWARD', v1, [asLong]).compatible).toBe(false);
  });
});

describe('parseAvroSchema', () => {
  it('identifies schemas regardless of key order and whitespace, but not of defaults', () => {
    const a = parseAvroSchema('{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}');
    const b = parseAvroSchema(
      '{ "fields": [ {"type": "int", "name": "a"} ], "name": "R", "type": "record" }',
    );
    const c = parseAvroSchema(
      '{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]}',
    );
    expect(a.canonical).toBe(b.canonical);
    expect(a.canonical).not.toBe(c.canonical);
    expect(b.text).toBe('{"fields":[{"type":"int","name":"a"}],"name":"R","type":"record"}');
  });

  it('rejects text that is not JSON or not Avro with 42201', () => {
    for (const bad of ['{not json', '{"type":"record","name":"R"}', '"nosuchtype"']) {
      let error: unknown;
      try {
        parseAvroSchema(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).errorCode).toBe(42201);
      expect((error as RegistryError).httpStatus).toBe(422);
    }
  });
});

describe('isCompatibilityLevel', () => {
  it('knows the seven Confluent levels', () => {
    expect(isCompatibilityLevel('FULL_TRANSITIVE')).toBe(true);
    expect(isCompatibilityLevel('full')).toBe(false);
    expect(isCompatibilityLevel(undefined)).toBe(false);
  });
});
