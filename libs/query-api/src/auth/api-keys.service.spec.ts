import type { ApiAuditRepository, ApiKeysRepository } from '@sentio/clickhouse';
import { describe, expect, it } from 'vitest';
import { AuditService } from '../audit/audit.service.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { as, memoryApiKeys, memoryAudit, specConfig } from '../common/spec-fakes.util.js';
import { ApiKeysService } from './api-keys.service.js';

const ADMIN: AuthenticatedUser = { username: 'root', role: 'admin', kind: 'user' };

function setup() {
  const mocks = { keys: memoryApiKeys(), audit: memoryAudit() };
  const sut = new ApiKeysService(
    as<ApiKeysRepository>(mocks.keys),
    new AuditService(specConfig(), as<ApiAuditRepository>(mocks.audit)),
  );
  return { sut, mocks };
}

describe('ApiKeysService', () => {
  it('creates a key shown once, stored hashed, that authenticates with its role until revoked', async () => {
    const { sut, mocks } = setup();
    const created = await sut.create('grafana', 'viewer', ADMIN, '10.0.0.1');
    expect(created.apiKey).toMatch(/^sk_[0-9a-f-]{36}\.[\w-]{43}$/);
    const stored = mocks.keys.rows.get(created.keyId)!;
    expect(stored).toMatchObject({ name: 'grafana', role: 'viewer', createdBy: 'root', revoked: false });
    expect(created.apiKey).not.toContain(stored.secretHash);
    expect(await sut.authenticate(created.apiKey)).toEqual({
      username: created.keyId,
      role: 'viewer',
      kind: 'api-key',
    });
    expect(await sut.list()).toEqual([expect.not.objectContaining({ apiKey: expect.anything() })]);

    await sut.revoke(created.keyId, ADMIN, '10.0.0.1');
    expect(await sut.authenticate(created.apiKey)).toBeUndefined();
    expect(mocks.audit.events.map((e) => [e.action, e.target])).toEqual([
      ['api-key.create', created.keyId],
      ['api-key.revoke', created.keyId],
    ]);
  });

  it('refuses malformed and forged keys without a lookup of the malformed ones', async () => {
    const { sut, mocks } = setup();
    const { apiKey } = await sut.create('ci', 'operator', ADMIN, 'ip');
    for (const bad of ['', 'sk_x', "sk_' OR 1=1 --", `${apiKey.slice(0, -2)}xx`]) {
      expect(await sut.authenticate(bad), bad).toBeUndefined();
    }
    // Only the well-formed forgery reached the repository.
    expect(mocks.keys.find).toHaveBeenCalledTimes(1);
  });

  it('answers 404 for revoking a key that does not exist', async () => {
    const { sut } = setup();
    await expect(sut.revoke('3f1b1f0e-0000-4000-8000-000000000001', ADMIN, 'ip')).rejects.toThrow(
      /no API key/,
    );
  });
});
