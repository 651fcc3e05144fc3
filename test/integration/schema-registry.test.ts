import { randomBytes } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { AvroSerde } from '@sentio/avro';
import { createLogger } from '@sentio/observability';
import { startSchemaRegistry, type RunningSchemaRegistry } from '@sentio/schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const topic = `_schemas_test_${randomBytes(6).toString('hex')}`;
const logger = createLogger('schema-registry-test', process.env['SENTIO_LOG_LEVEL'] ?? 'warn');

const reading = (extra: object[] = []) =>
  JSON.stringify({
    type: 'record',
    name: 'Reading',
    namespace: 'sentio.test',
    fields: [{ name: 'sensor', type: 'string' }, { name: 'value', type: 'double' }, ...extra],
  });

/** Registry answers are objects or arrays of strings and numbers; tests read fields by name. */
type Json = Record<string, string> & string[];

async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

describe('schema registry on a real broker', () => {
  let registry: RunningSchemaRegistry;
  let client: SchemaRegistry;

  beforeAll(async () => {
    registry = await startSchemaRegistry({ brokers, port: 0, topic, logger });
    client = new SchemaRegistry({ host: registry.url, retry: { retries: 0 } });
  });

  afterAll(async () => {
    await registry?.close();
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  let v1: number;
  let v2: number;

  it('registers, encodes and decodes through the Confluent client', async () => {
    expect((await api(registry.url, 'GET', '/')).json).toEqual({});
    expect((await api(registry.url, 'GET', '/health')).json).toEqual({ status: 'up' });

    ({ id: v1 } = await client.register(
      { type: SchemaType.AVRO, schema: reading() },
      { subject: 'readings-value' },
    ));
    expect(v1).toBeGreaterThan(0);
    const payload = { sensor: 's-1', value: 21.5 };
    const encoded = await client.encode(v1, payload);
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(v1);
    expect(await client.decode(encoded)).toEqual(payload);

    // Re-registering is idempotent, and the same schema under another subject shares the global id.
    const again = await client.register(
      { type: SchemaType.AVRO, schema: reading() },
      { subject: 'readings-value' },
    );
    expect(again.id).toBe(v1);
    const other = await api(registry.url, 'POST', '/subjects/other-value/versions', { schema: reading() });
    expect(other).toEqual({ status: 200, json: { id: v1 } });

    const byId = await api(registry.url, 'GET', `/schemas/ids/${v1}`);
    expect(byId.status).toBe(200);
    expect(JSON.parse(byId.json.schema!)).toEqual(JSON.parse(reading()));
    expect(byId.json.schemaType).toBeUndefined();
    expect((await api(registry.url, 'GET', '/config/readings-value')).json).toEqual({
      compatibilityLevel: 'BACKWARD',
    });
  });

  it('accepts a backward-compatible evolution and rejects an incompatible one with 409', async () => {
    const compatible = reading([{ name: 'unit', type: 'string', default: 'C' }]);
    const incompatible = reading([{ name: 'site', type: 'string' }]);

    const check = await api(registry.url, 'POST', '/compatibility/subjects/readings-value/versions/latest', {
      schema: incompatible,
    });
    expect(check).toEqual({ status: 200, json: { is_compatible: false } });

    ({ id: v2 } = await client.register(
      { type: SchemaType.AVRO, schema: compatible },
      { subject: 'readings-value' },
    ));
    expect(v2).toBeGreaterThan(v1);

    const rejected = await api(registry.url, 'POST', '/subjects/readings-value/versions', {
      schema: incompatible,
    });
    expect(rejected.status).toBe(409);
    expect(rejected.json.error_code).toBe(409);
    await expect(
      client.register({ type: SchemaType.AVRO, schema: incompatible }, { subject: 'readings-value' }),
    ).rejects.toMatchObject({ status: 409 });

    // Old data still decodes with the new reader schema.
    const old = await client.encode(v1, { sensor: 's-2', value: 1 });
    expect(await client.decode(old, { [SchemaType.AVRO]: { readerSchema: JSON.parse(compatible) } })).toEqual(
      {
        sensor: 's-2',
        value: 1,
        unit: 'C',
      },
    );
  });

  it('answers Confluent error codes', async () => {
    expect((await api(registry.url, 'GET', '/subjects/nope/versions')).json.error_code).toBe(40401);
    expect((await api(registry.url, 'GET', '/subjects/readings-value/versions/99')).json.error_code).toBe(
      40402,
    );
    expect((await api(registry.url, 'GET', '/subjects/readings-value/versions/zero')).json.error_code).toBe(
      42202,
    );
    expect((await api(registry.url, 'GET', '/schemas/ids/9999')).json.error_code).toBe(40403);
    const invalid = await api(registry.url, 'POST', '/subjects/x/versions', { schema: '{"type":"recrd"}' });
    expect(invalid).toMatchObject({ status: 422, json: { error_code: 42201 } });
    const unknown = await api(registry.url, 'POST', '/subjects/readings-value', {
      schema: reading([{ name: 'z', type: 'int', default: 0 }]),
    });
    expect(unknown.json.error_code).toBe(40403);
  });

  it('changes compatibility levels per subject', async () => {
    expect(await api(registry.url, 'PUT', '/config/loose-value', { compatibility: 'NONE' })).toEqual({
      status: 200,
      json: { compatibility: 'NONE' },
    });
    await api(registry.url, 'POST', '/subjects/loose-value/versions', { schema: reading() });
    const anything = await api(registry.url, 'POST', '/subjects/loose-value/versions', {
      schema: '"string"',
    });
    expect(anything.status).toBe(200);
    expect((await api(registry.url, 'GET', '/config')).json).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('rebuilds ids, versions and configs from the topic after a restart', async () => {
    await registry.close();
    registry = await startSchemaRegistry({ brokers, port: 0, topic, logger });
    client = new SchemaRegistry({ host: registry.url, retry: { retries: 0 } });

    expect((await api(registry.url, 'GET', '/subjects')).json).toEqual([
      'loose-value',
      'other-value',
      'readings-value',
    ]);
    expect((await api(registry.url, 'GET', '/subjects/readings-value/versions')).json).toEqual([1, 2]);
    const latest = await api(registry.url, 'GET', '/subjects/readings-value/versions/latest');
    expect(latest.json).toMatchObject({ subject: 'readings-value', version: 2, id: v2 });
    const first = await api(registry.url, 'GET', '/subjects/readings-value/versions/1');
    expect(first.json).toMatchObject({ version: 1, id: v1 });
    expect((await api(registry.url, 'GET', '/config/loose-value')).json).toEqual({
      compatibilityLevel: 'NONE',
    });

    const again = await client.register(
      { type: SchemaType.AVRO, schema: reading() },
      { subject: 'readings-value' },
    );
    expect(again.id).toBe(v1);
    expect(await client.getLatestSchemaId('readings-value')).toBe(v2);

    // New ids continue after the replayed ones instead of colliding with them.
    const fresh = await api(registry.url, 'POST', '/subjects/fresh-value/versions', {
      schema: JSON.stringify({ type: 'enum', name: 'State', symbols: ['ON', 'OFF'] }),
    });
    expect(fresh.json.id).toBeGreaterThan(v2);
    expect(new Set([v1, v2, fresh.json.id]).size).toBe(3);
  });
});

describe('registering one new subject from several processes at once', () => {
  it('gives every caller the same schema id (the registry refuses a racing create; registering again finds it)', async () => {
    const url = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
    const subject = `race-${randomBytes(4).toString('hex')}-value`;
    const schema = { type: 'record', name: 'Race', fields: [{ name: 'n', type: 'int' }] };
    const serdes = Array.from({ length: 8 }, () => AvroSerde.forUrl(url));
    const encoders = await Promise.all(serdes.map((serde) => serde.encoderFor(subject, schema, 'race')));
    expect(new Set(encoders.map((e) => e.schemaId)).size).toBe(1);
  });
});
