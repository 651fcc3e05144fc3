import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { ApiAuditRepository, type AuditEvent } from './api-audit.repository.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { ApiRefreshTokensRepository } from './api-refresh-tokens.repository.js';
import { ApiUsersRepository, nextVersion, USER_READ_TTL_MS } from './api-users.repository.js';
import { openSpecStore } from './spec-store.util.js';

// The query API's own tables (migration 002): rewritten rows, the newest version wins.
describe('the api state repositories on embedded ClickHouse', () => {
  let store: ClickHouseStore;

  beforeAll(async () => {
    store = await openSpecStore('api-state-spec');
  });

  afterAll(async () => {
    await store.close();
  });

  it('versions writes above every earlier one, even within one millisecond', () => {
    expect(nextVersion(0, 1000)).toBe(1_000_000);
    expect(nextVersion(1_000_000, 1000)).toBe(1_000_001);
    expect(nextVersion(5_000_000, 1000)).toBe(5_000_001);
  });

  it('users: the newest row of a user wins; count and list see one row per user', async () => {
    const users = new ApiUsersRepository(store);
    const alice = {
      username: 'alice',
      passwordHash: 'h1',
      role: 'viewer',
      tokenVersion: 0,
      disabled: false,
    } as const;
    await users.save(alice);
    await users.save({ ...alice, role: 'admin', tokenVersion: 1 });
    await users.save({ ...alice, username: 'bob', disabled: true });
    expect(await users.find('alice')).toEqual({ ...alice, role: 'admin', tokenVersion: 1 });
    expect(await users.find("alice' OR '1'='1")).toBeUndefined();
    expect(await users.count()).toBe(2);
    expect((await users.list()).map((u) => [u.username, u.role, u.disabled])).toEqual([
      ['alice', 'admin', false],
      ['bob', 'viewer', true],
    ]);
  });

  it('users: a change saved here shows at once, one saved elsewhere within USER_READ_TTL_MS', async () => {
    const here = new ApiUsersRepository(store);
    const elsewhere = new ApiUsersRepository(store);
    const carol = {
      username: 'carol',
      passwordHash: 'h',
      role: 'viewer',
      tokenVersion: 0,
      disabled: false,
    } as const;
    await here.save(carol);
    expect(await here.find('carol')).toEqual(carol);
    expect(await elsewhere.find('carol')).toEqual(carol);
    await here.save({ ...carol, tokenVersion: 1 });
    expect(await here.find('carol')).toEqual({ ...carol, tokenVersion: 1 });
    // Another process's copy may hold its read for up to USER_READ_TTL_MS, not longer.
    await new Promise((r) => setTimeout(r, USER_READ_TTL_MS));
    expect(await elsewhere.find('carol')).toEqual({ ...carol, tokenVersion: 1 });
  });

  it('refresh tokens: a token rewritten as revoked reads revoked, with its expiry', async () => {
    const tokens = new ApiRefreshTokensRepository(store);
    const token = {
      tokenId: '3f1b1f0e-0000-4000-8000-000000000001',
      username: 'alice',
      secretHash: 'ab'.repeat(32),
      tokenVersion: 1,
      expiresAtMs: Date.UTC(2030, 0, 1),
      revoked: false,
    };
    await tokens.save(token);
    expect(await tokens.find(token.tokenId)).toEqual(token);
    await tokens.save({ ...token, revoked: true });
    expect(await tokens.find(token.tokenId)).toEqual({ ...token, revoked: true });
    expect(await tokens.find('3f1b1f0e-0000-4000-8000-000000000002')).toBeUndefined();
  });

  it('API keys: listed in creation order, revocation read back', async () => {
    const keys = new ApiKeysRepository(store);
    const key = {
      keyId: '3f1b1f0e-0000-4000-8000-00000000000a',
      name: 'grafana',
      role: 'viewer',
      secretHash: 'cd'.repeat(32),
      createdBy: 'alice',
      createdAtMs: Date.UTC(2026, 10, 26),
      revoked: false,
    } as const;
    await keys.save(key);
    await keys.save({
      ...key,
      keyId: '3f1b1f0e-0000-4000-8000-00000000000b',
      createdAtMs: key.createdAtMs - 1,
    });
    await keys.save({ ...key, revoked: true });
    expect(await keys.find(key.keyId)).toEqual({ ...key, revoked: true });
    expect((await keys.list()).map((k) => k.keyId.slice(-1))).toEqual(['b', 'a']);
  });

  it('audit: lists a range newest first, and replays chosen actions oldest first', async () => {
    const audit = new ApiAuditRepository(store);
    const t = Date.UTC(2026, 10, 26, 12);
    const event = (i: number, action: string): AuditEvent => ({
      tsMs: t + i * 1000,
      actor: 'alice',
      actorKind: 'user',
      action,
      target: `t${i}`,
      detail: JSON.stringify({ i }),
      ip: '10.0.0.1',
    });
    for (const [i, action] of [
      'auth.login-failed',
      'user.create',
      'auth.login',
      'auth.login-failed',
    ].entries()) {
      await audit.append(event(i, action));
    }
    expect((await audit.list(t, t + 10_000, 10)).map((e) => e.target)).toEqual(['t3', 't2', 't1', 't0']);
    expect((await audit.list(t + 1000, t + 3000, 10)).map((e) => e.target)).toEqual(['t2', 't1']);
    expect(await audit.list(t, t + 10_000, 1)).toEqual([event(3, 'auth.login-failed')]);
    const logins = await audit.since(['auth.login', 'auth.login-failed'], t + 1, 10);
    expect(logins.map((e) => [e.action, e.target])).toEqual([
      ['auth.login', 't2'],
      ['auth.login-failed', 't3'],
    ]);
  });
});
