import type { ApiAuditRepository, ApiUsersRepository } from '@sentio/clickhouse';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditService, LOGIN_ACTIONS } from '../audit/audit.service.js';
import { as, memoryAudit, memoryUsers, specConfig, specLogger } from '../common/spec-fakes.util.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordService } from './password.service.js';
import { UsersService } from './users.service.js';

let passwords: PasswordService;

beforeAll(async () => {
  passwords = await PasswordService.create();
});

function setup(env: Record<string, string> = {}) {
  const config = specConfig(env);
  const mocks = { users: memoryUsers(), audit: memoryAudit() };
  const throttle = new LoginThrottle({ maxAttempts: 2, windowMs: 60_000, lockoutMs: 600_000 });
  const sut = new UsersService(
    config,
    specLogger,
    as<ApiUsersRepository>(mocks.users),
    passwords,
    throttle,
    new AuditService(config, as<ApiAuditRepository>(mocks.audit)),
  );
  return { sut, mocks };
}

const ADMIN_ENV = { SENTIO_ADMIN_USER: 'root', SENTIO_ADMIN_PASSWORD: 'root-password-1234' };

describe('UsersService', { timeout: 60_000 }, () => {
  it('creates the first admin from the environment, only into an empty table', async () => {
    const { sut, mocks } = setup(ADMIN_ENV);
    expect(await sut.status()).toEqual({
      adminExists: false,
      message: expect.stringMatching(/No admin exists yet/),
    });
    await sut.onModuleInit();
    expect(mocks.users.rows.get('root')).toMatchObject({ role: 'admin', tokenVersion: 0, disabled: false });
    expect(await passwords.verify(mocks.users.rows.get('root')!.passwordHash, 'root-password-1234')).toBe(
      true,
    );
    expect(mocks.audit.events).toEqual([expect.objectContaining({ actor: 'system', action: 'user.create' })]);
    expect(await sut.status()).toEqual({ adminExists: true });
    await sut.onModuleInit();
    expect(mocks.users.save).toHaveBeenCalledTimes(1);
  });

  it('creates nobody without the environment, and refuses a weak first admin', async () => {
    const none = setup();
    await none.sut.onModuleInit();
    expect(none.mocks.users.rows.size).toBe(0);
    const weak = setup({ SENTIO_ADMIN_USER: 'root', SENTIO_ADMIN_PASSWORD: 'short' });
    await expect(weak.sut.onModuleInit()).rejects.toThrow(/SENTIO_ADMIN_PASSWORD at least 12 characters/);
  });

  it('counts only an enabled admin as an admin', async () => {
    const { sut, mocks } = setup();
    await sut.create('viewer1', 'viewer-password-1234', 'viewer', 'system', 'local');
    expect((await sut.status()).adminExists).toBe(false);
    await sut.create('boss', 'boss-password-1234', 'admin', 'system', 'local');
    mocks.users.rows.get('boss')!.disabled = true;
    expect((await sut.status()).adminExists).toBe(false);
    await expect(sut.create('boss', 'x'.repeat(12), 'viewer', 'system', 'local')).rejects.toThrow(/exists/);
  });

  it('changes a password only with the current one, ending every session; failures count as failed logins', async () => {
    const { sut, mocks } = setup();
    await sut.create('alice', 'alice-password-1234', 'viewer', 'system', 'local');
    await expect(sut.changePassword('alice', 'wrong', 'new-password-5678', 'ip')).rejects.toThrow(
      /current password does not match/,
    );
    expect(mocks.audit.events.at(-1)).toMatchObject({ action: LOGIN_ACTIONS.failed, target: 'alice' });
    await sut.changePassword('alice', 'alice-password-1234', 'new-password-5678', 'ip');
    const alice = mocks.users.rows.get('alice')!;
    expect(alice.tokenVersion).toBe(1);
    expect(await passwords.verify(alice.passwordHash, 'new-password-5678')).toBe(true);
    expect(mocks.audit.events.at(-1)).toMatchObject({ action: 'user.password-change', target: 'alice' });
    // Two failures from one address lock the change out too.
    await expect(sut.changePassword('alice', 'wrong', 'x'.repeat(12), 'ip2')).rejects.toThrow();
    await expect(sut.changePassword('alice', 'wrong', 'x'.repeat(12), 'ip2')).rejects.toThrow();
    await expect(sut.changePassword('alice', 'new-password-5678', 'x'.repeat(12), 'ip2')).rejects.toThrow(
      /too many failed logins/,
    );
  });

  it('lets an admin change roles, disable users and reset passwords, never removing the last admin', async () => {
    const { sut, mocks } = setup();
    const root = { username: 'root', role: 'admin', kind: 'user' } as const;
    await sut.create('root', 'root-password-1234', 'admin', 'system', 'local');
    await sut.create('alice', 'alice-password-1234', 'viewer', 'system', 'local');
    await expect(sut.update('root', { role: 'viewer' }, root, 'ip')).rejects.toThrow(/last admin/);
    await expect(sut.update('root', { disabled: true }, root, 'ip')).rejects.toThrow(/last admin/);
    await expect(sut.update('nobody', { role: 'admin' }, root, 'ip')).rejects.toThrow(/no user nobody/);

    // A role change keeps the sessions (the role is read on every request); disabling ends them.
    expect(await sut.update('alice', { role: 'admin' }, root, 'ip')).toEqual({
      username: 'alice',
      role: 'admin',
      disabled: false,
    });
    expect(mocks.users.rows.get('alice')!.tokenVersion).toBe(0);
    await sut.update('root', { disabled: true }, root, 'ip');
    expect(mocks.users.rows.get('root')).toMatchObject({ disabled: true, tokenVersion: 1 });
    await sut.update('root', { disabled: false, password: 'fresh-password-1234' }, root, 'ip');
    const rootRow = mocks.users.rows.get('root')!;
    expect(rootRow).toMatchObject({ disabled: false, tokenVersion: 2 });
    expect(await passwords.verify(rootRow.passwordHash, 'fresh-password-1234')).toBe(true);
    expect(
      mocks.audit.events.filter((e) => e.action === 'user.update').map((e) => JSON.parse(e.detail)),
    ).toEqual([{ role: 'admin' }, { disabled: true }, { disabled: false, password: 'reset' }]);
  });
});
