import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@sentio/observability';
import { COMPATIBILITY_LEVELS, isCompatibilityLevel } from './compatibility.js';
import { ErrorCode, RegistryError } from './registry-error.js';
import { SchemaStore, type SchemaVersion } from './schema-store.js';

export interface SchemaRegistryOptions {
  readonly brokers: string[];
  /** 0 picks a free port; the chosen one is in the returned url. */
  readonly port: number;
  readonly host?: string;
  readonly topic?: string;
  readonly logger?: Logger;
}

export interface RunningSchemaRegistry {
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Starts a Confluent-compatible (Avro only) schema registry. The topic is replayed before the port opens, so
 * no request ever sees a partially rebuilt state. Run exactly one instance per topic (see SchemaStore).
 */
export async function startSchemaRegistry(options: SchemaRegistryOptions): Promise<RunningSchemaRegistry> {
  const logger = options.logger ?? createLogger('schema-registry');
  const topic = options.topic ?? '_schemas';
  const host = options.host ?? '127.0.0.1';
  const store = new SchemaStore({ brokers: options.brokers, topic, logger });
  await store.start();

  const server = createServer((req, res) => {
    handle(store, req, res).catch((error: unknown) => {
      const registryError =
        error instanceof RegistryError
          ? error
          : new RegistryError(ErrorCode.storeError, 'Internal server error');
      if (!(error instanceof RegistryError) || registryError.errorCode >= 50000) {
        logger.error({ err: error, method: req.method, url: req.url }, 'request failed');
      } else {
        logger.debug(
          { method: req.method, url: req.url, errorCode: registryError.errorCode },
          'request rejected',
        );
      }
      send(res, registryError.httpStatus, {
        error_code: registryError.errorCode,
        message: registryError.message,
      });
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, topic }, 'schema registry listening');

  return {
    url,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
      logger.info({ url }, 'schema registry stopped');
    },
  };
}

type Params = string[];
type Handler = (ctx: {
  store: SchemaStore;
  params: Params;
  query: URLSearchParams;
  body: () => Promise<Record<string, unknown>>;
}) => Promise<unknown> | unknown;

const SEGMENT = '([^/]+)';
const routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
function route(method: string, path: string, handler: Handler): void {
  routes.push({ method, pattern: new RegExp(`^${path.replaceAll('{}', SEGMENT)}/?$`), handler });
}

route('GET', '', () => ({}));
route('GET', '/health', () => ({ status: 'up' }));
route('GET', '/schemas/types', () => ['AVRO']);
route('GET', '/schemas/ids/{}', ({ store, params }) => ({ schema: store.schemaById(parseId(params[0])) }));
route('GET', '/schemas/ids/{}/schema', ({ store, params }) =>
  rawSchema(store.schemaById(parseId(params[0]))),
);
route('GET', '/schemas/ids/{}/versions', ({ store, params }) =>
  store.subjectVersionsForId(parseId(params[0])),
);

route('GET', '/subjects', ({ store, query }) => store.subjectNames(query.get('deleted') === 'true'));
route('GET', '/subjects/{}/versions', ({ store, params, query }) =>
  store.versions(params[0]!, query.get('deleted') === 'true').map((v) => v.version),
);
route('GET', '/subjects/{}/versions/{}', ({ store, params, query }) =>
  describe(store.version(params[0]!, parseVersion(params[1]), query.get('deleted') === 'true')),
);
route('GET', '/subjects/{}/versions/{}/schema', ({ store, params, query }) =>
  rawSchema(store.version(params[0]!, parseVersion(params[1]), query.get('deleted') === 'true').schema),
);
route('POST', '/subjects/{}/versions', async ({ store, params, body }) => {
  const schema = schemaFrom(await body());
  return store.register(params[0]!, schema);
});
route('POST', '/subjects/{}', async ({ store, params, body, query }) => {
  const schema = schemaFrom(await body());
  return describe(store.lookup(params[0]!, schema, query.get('deleted') === 'true'));
});
route('DELETE', '/subjects/{}', ({ store, params, query }) =>
  store.deleteSubject(params[0]!, query.get('permanent') === 'true'),
);

route('POST', '/compatibility/subjects/{}/versions/{}', async ({ store, params, body, query }) => {
  const schema = schemaFrom(await body());
  const result = store.testCompatibility(params[0]!, schema, parseVersion(params[1]));
  return query.get('verbose') === 'true'
    ? { is_compatible: result.compatible, messages: result.messages }
    : { is_compatible: result.compatible };
});
route('POST', '/compatibility/subjects/{}/versions', async ({ store, params, body, query }) => {
  const schema = schemaFrom(await body());
  const result = store.testCompatibility(params[0]!, schema, 'latest');
  return query.get('verbose') === 'true'
    ? { is_compatible: result.compatible, messages: result.messages }
    : { is_compatible: result.compatible };
});

route('GET', '/config', ({ store }) => ({ compatibilityLevel: store.globalCompatibility() }));
route('PUT', '/config', async ({ store, body }) => {
  const level = levelFrom(await body());
  await store.setCompatibility(null, level);
  return { compatibility: level };
});
route('GET', '/config/{}', ({ store, params, query }) => {
  const subject = params[0]!;
  const level = store.subjectCompatibility(subject);
  if (level) return { compatibilityLevel: level };
  // Clients (kafkajs' among them) read this 404 as "first registration", so only fall back when asked to.
  if (query.get('defaultToGlobal') === 'true') return { compatibilityLevel: store.globalCompatibility() };
  throw new RegistryError(
    ErrorCode.subjectCompatibilityNotConfigured,
    `Subject '${subject}' does not have subject-level compatibility configured`,
  );
});
route('PUT', '/config/{}', async ({ store, params, body }) => {
  const level = levelFrom(await body());
  await store.setCompatibility(params[0]!, level);
  return { compatibility: level };
});
route('DELETE', '/config/{}', async ({ store, params }) => ({
  compatibilityLevel: await store.deleteCompatibility(params[0]!),
}));

async function handle(store: SchemaStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://registry');
  const path = url.pathname.replace(/\/+$/, '');
  let pathMatched = false;
  for (const { method, pattern, handler } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (method !== req.method) continue;
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    const result = await handler({ store, params, query: url.searchParams, body: () => readJson(req) });
    if (result instanceof RawSchema) {
      res.writeHead(200, { 'content-type': CONTENT_TYPE });
      res.end(result.text);
    } else {
      send(res, 200, result);
    }
    return;
  }
  if (pathMatched) send(res, 405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
  else send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': CONTENT_TYPE });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'];
  // Confluent accepts its own media types, plain JSON, and (for curl users) no or a generic type.
  if (type && !/json|octet-stream|x-www-form-urlencoded/i.test(type)) {
    throw new RegistryError(415, `Unsupported content type ${type}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RegistryError(413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RegistryError(400, 'Malformed JSON request body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RegistryError(422, 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function schemaFrom(body: Record<string, unknown>): string {
  const { schema, schemaType, references } = body;
  if (schemaType !== undefined && schemaType !== null && schemaType !== 'AVRO') {
    throw new RegistryError(
      ErrorCode.invalidSchema,
      `Invalid schema: schema type ${String(schemaType)} is not supported`,
    );
  }
  if (Array.isArray(references) && references.length > 0) {
    throw new RegistryError(ErrorCode.invalidSchema, 'Invalid schema: schema references are not supported');
  }
  if (typeof schema !== 'string' || schema.trim() === '') {
    throw new RegistryError(ErrorCode.invalidSchema, 'Invalid schema: empty schema');
  }
  return schema;
}

function levelFrom(body: Record<string, unknown>): (typeof COMPATIBILITY_LEVELS)[number] {
  const level =
    typeof body['compatibility'] === 'string' ? body['compatibility'].toUpperCase() : body['compatibility'];
  if (!isCompatibilityLevel(level)) {
    throw new RegistryError(
      ErrorCode.invalidCompatibilityLevel,
      `Invalid compatibility level. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`,
    );
  }
  return level;
}

function parseVersion(raw: string | undefined): number | 'latest' {
  if (raw === 'latest' || raw === '-1') return 'latest';
  const version = /^\d{1,10}$/.test(raw ?? '') ? Number(raw) : NaN;
  if (!Number.isInteger(version) || version < 1 || version > 2 ** 31 - 1) {
    throw new RegistryError(
      ErrorCode.invalidVersion,
      `The specified version '${raw}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return version;
}

function parseId(raw: string | undefined): number {
  const id = /^\d{1,10}$/.test(raw ?? '') ? Number(raw) : NaN;
  if (!Number.isInteger(id) || id < 1)
    throw new RegistryError(ErrorCode.schemaNotFound, `Schema ${raw} not found`);
  return id;
}

function describe(v: SchemaVersion): { subject: string; version: number; id: number; schema: string } {
  return { subject: v.subject, version: v.version, id: v.id, schema: v.schema };
}

class RawSchema {
  constructor(readonly text: string) {}
}
function rawSchema(text: string): RawSchema {
  return new RawSchema(text);
}
