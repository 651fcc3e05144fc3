import { HttpException, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { ApiAuditRepository, ApiRefreshTokensRepository, ApiUsersRepository } from '@sentio/clickhouse';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditService, LOGIN_ACTIONS } from '../audit/audit.service.js';
import {
  as,
  memoryAudit,
  memoryRefreshTokens,
  memoryUsers,
  specConfig,
  specLogger,
} from '../common/spec-fakes.util.js';
import { AuthService } from './auth.service.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordService } from './password.service.js';

let passwords: PasswordService;
let aliceHash: string;

beforeAll(async () => {
  passwords = await PasswordService.create();
  aliceHash = await passwords.hash('alice-password-1234');
});

/** Real JWT signing, password hashing and throttle; the repositories are in-memory fakes. */
function setup(audit = memoryAudit()) {
  const config = specConfig({ QUERY_API_LOGIN_MAX_ATTEMPTS: '2' });
  const mocks = { users: memoryUsers(), refreshTokens: memoryRefreshTokens(), audit };
  const throttle = new LoginThrottle({ maxAttempts: 2, windowMs: 60_000, lockoutMs: 600_000 });
  const jwt = new JwtService({ secret: 'x'.repeat(32), signOptions: { algorithm: 'HS256' } });
  const sut = new AuthService(
    config,
    specLogger,
    new AuditService(config, as<ApiAuditRepository>(mocks.audit)),
    jwt,
    as<ApiUsersRepository>(mocks.users),
    as<ApiRefreshTokensRepository>(mocks.refreshTokens),
    throttle,
    passwords,
  );
  mocks.users.rows.set('alice', {
    username: 'alice',
    passwordHash: aliceHash,
    role: 'operator',
    tokenVersion: 3,
    disabled: false,
  });
  return { sut, mocks, jwt };
}

// argon2 is deliberately slow, and two cores are shared: generous time per test.
describe('AuthService', { timeout: 60_000 }, () => {
  it('logs in: an access token carrying the token version, a stored refresh token, the login audited', async () => {
    const { sut, mocks, jwt } = setup();
    const pair = await sut.login('Alice', 'alice-password-1234', '10.0.0.1');
    expect(pair).toMatchObject({ tokenType: 'Bearer', role: 'operator', username: 'alice', expiresIn: 900 });
    expect(await jwt.verifyAsync(pair.accessToken)).toMatchObject({ sub: 'alice', role: 'operator', tv: 3 });
    const [tokenId, secret] = pair.refreshToken.split('.');
    const stored = mocks.refreshTokens.rows.get(tokenId!)!;
    expect(stored).toMatchObject({ username: 'alice', tokenVersion: 3, revoked: false });
    expect(stored.secretHash).not.toContain(secret);
    expect(mocks.audit.events.map((e) => [e.action, e.target, e.ip])).toEqual([
      [LOGIN_ACTIONS.succeeded, 'alice', '10.0.0.1'],
    ]);
  });

  it('refuses wrong passwords, unknown and disabled users alike, and locks the pair out', async () => {
    const { sut, mocks } = setup();
    await expect(sut.login('nobody', 'x', 'ip')).rejects.toThrow(UnauthorizedException);
    mocks.users.rows.get('alice')!.disabled = true;
    await expect(sut.login('alice', 'alice-password-1234', 'ip')).rejects.toThrow(
      'invalid username or password',
    );
    mocks.users.rows.get('alice')!.disabled = false;
    await expect(sut.login('alice', 'wrong', 'ip')).rejects.toThrow(UnauthorizedException);
    // Two failures for alice from this address: locked, even with the right password.
    await expect(sut.login('alice', 'alice-password-1234', 'ip')).rejects.toThrow(HttpException);
    await expect(sut.login('alice', 'alice-password-1234', 'other-ip')).resolves.toBeDefined();
    expect(mocks.audit.events.filter((e) => e.action === LOGIN_ACTIONS.failed).map((e) => e.target)).toEqual([
      'nobody',
      'alice',
      'alice',
    ]);
  });

  it('rebuilds a lockout at start from the logins on the audit trail', async () => {
    const first = setup();
    await expect(first.sut.login('alice', 'wrong-1', 'ip')).rejects.toThrow();
    await expect(first.sut.login('alice', 'wrong-2', 'ip')).rejects.toThrow();
    // A new process over the same audit trail is locked too; one over an empty trail is not.
    const restarted = setup(first.mocks.audit);
    await restarted.sut.onApplicationBootstrap();
    await expect(restarted.sut.login('alice', 'alice-password-1234', 'ip')).rejects.toThrow(
      /too many failed logins/,
    );
    const fresh = setup();
    await fresh.sut.onApplicationBootstrap();
    await expect(fresh.sut.login('alice', 'alice-password-1234', 'ip')).resolves.toBeDefined();
  });

  it('rotates refresh tokens; a spent one presented again revokes every session of the user', async () => {
    const { sut, mocks } = setup();
    const first = await sut.login('alice', 'alice-password-1234', 'ip');
    const second = await sut.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expect(sut.refresh(first.refreshToken)).rejects.toThrow('invalid or expired refresh token');
    expect(mocks.users.rows.get('alice')!.tokenVersion).toBe(4);
    await expect(sut.refresh(second.refreshToken)).rejects.toThrow(UnauthorizedException);
    expect(await sut.authenticate({ sub: 'alice', role: 'operator', tv: 3 })).toBeUndefined();
    expect(await sut.authenticate({ sub: 'alice', role: 'operator', tv: 4 })).toEqual({
      username: 'alice',
      role: 'operator',
      kind: 'user',
    });
  });

  it('refuses malformed, forged and expired refresh tokens', async () => {
    const { sut, mocks } = setup();
    const { refreshToken } = await sut.login('alice', 'alice-password-1234', 'ip');
    const [tokenId] = refreshToken.split('.');
    for (const bad of ['', 'x', `${tokenId}.forged-secret`, "' OR 1=1 --.x"]) {
      await expect(sut.refresh(bad), bad).rejects.toThrow(UnauthorizedException);
    }
    mocks.refreshTokens.rows.get(tokenId!)!.expiresAtMs = Date.now() - 1;
    await expect(sut.refresh(refreshToken)).rejects.toThrow(UnauthorizedException);
  });

  it('logs out one session, or every one; an unknown token is an error only when strict', async () => {
    const { sut, mocks } = setup();
    const a = await sut.login('alice', 'alice-password-1234', 'ip');
    const b = await sut.login('alice', 'alice-password-1234', 'ip');
    await sut.logout(a.refreshToken, false);
    await expect(sut.refresh(a.refreshToken)).rejects.toThrow();
    // Reusing a logged-out token counted as theft above; b is dead too now, so log in again.
    const c = await sut.login('alice', 'alice-password-1234', 'ip');
    await sut.logout(c.refreshToken, true);
    expect(mocks.users.rows.get('alice')!.tokenVersion).toBe(5);
    await expect(sut.refresh(b.refreshToken)).rejects.toThrow();
    await expect(sut.logout('nonsense', false)).rejects.toThrow(UnauthorizedException);
    await expect(sut.logout('nonsense', false, false)).resolves.toBeUndefined();
  });
});
