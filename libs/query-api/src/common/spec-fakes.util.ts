import type {
  ApiAuditRepository,
  ApiKeyRecord,
  ApiKeysRepository,
  ApiRefreshTokensRepository,
  ApiUserRecord,
  ApiUsersRepository,
  AuditEvent,
  RefreshTokenRecord,
} from '@sentio/clickhouse';
import { loadConfig } from '@sentio/config';
import { createLogger } from '@sentio/observability';
import { vi } from 'vitest';
import { queryApiConfigSection, type QueryApiConfig } from '../query-api.config.js';

/**
 * For unit specs only: the collaborators a service is built with in `{ sut, mocks }` specs. The api's
 * repositories are replaced by in-memory maps behind `vi.fn`, so a spec can both drive state and see calls;
 * the SQL itself is covered by the repositories' specs on the real engine in libs/clickhouse.
 */
export function specConfig(env: Record<string, string> = {}): QueryApiConfig {
  return loadConfig([queryApiConfigSection], { env }).queryApi;
}

export const specLogger = createLogger('spec', 'silent');

export function memoryUsers() {
  const rows = new Map<string, ApiUserRecord>();
  return {
    rows,
    find: vi.fn(async (username: string) => rows.get(username)),
    list: vi.fn(async () => [...rows.values()].sort((a, b) => a.username.localeCompare(b.username))),
    count: vi.fn(async () => rows.size),
    save: vi.fn(async (user: ApiUserRecord) => void rows.set(user.username, { ...user })),
  } satisfies Partial<Record<keyof ApiUsersRepository, unknown>> & { rows: unknown };
}

export function memoryRefreshTokens() {
  const rows = new Map<string, RefreshTokenRecord>();
  return {
    rows,
    find: vi.fn(async (tokenId: string) => rows.get(tokenId)),
    save: vi.fn(async (token: RefreshTokenRecord) => void rows.set(token.tokenId, { ...token })),
  } satisfies Partial<Record<keyof ApiRefreshTokensRepository, unknown>> & { rows: unknown };
}

export function memoryApiKeys() {
  const rows = new Map<string, ApiKeyRecord>();
  return {
    rows,
    find: vi.fn(async (keyId: string) => rows.get(keyId)),
    list: vi.fn(async () => [...rows.values()]),
    save: vi.fn(async (key: ApiKeyRecord) => void rows.set(key.keyId, { ...key })),
  } satisfies Partial<Record<keyof ApiKeysRepository, unknown>> & { rows: unknown };
}

export function memoryAudit() {
  const events: AuditEvent[] = [];
  return {
    events,
    append: vi.fn(async (event: AuditEvent) => void events.push(event)),
    list: vi.fn(async (fromMs: number, toMs: number, limit: number) =>
      events
        .filter((e) => e.tsMs >= fromMs && e.tsMs < toMs)
        .sort((a, b) => b.tsMs - a.tsMs)
        .slice(0, limit),
    ),
    since: vi.fn(async (actions: readonly string[], fromMs: number, limit: number) =>
      events.filter((e) => e.tsMs >= fromMs && actions.includes(e.action)).slice(0, limit),
    ),
  } satisfies Partial<Record<keyof ApiAuditRepository, unknown>> & { events: unknown };
}

/** A fake where a class instance is expected: the spec uses only the methods the fake has. */
export function as<T>(fake: object): T {
  return fake as T;
}
