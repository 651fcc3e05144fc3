import type { ApiAuditRepository } from '@sentio/clickhouse';
import { describe, expect, it } from 'vitest';
import { as, memoryAudit, specConfig } from '../common/spec-fakes.util.js';
import { AuditService, LOGIN_ACTIONS } from './audit.service.js';

function setup() {
  const mocks = { audit: memoryAudit() };
  const sut = new AuditService(specConfig({ QUERY_API_MAX_ROWS: '50' }), as<ApiAuditRepository>(mocks.audit));
  return { sut, mocks };
}

describe('AuditService', () => {
  it('records who did what: users and keys by name and kind, the system as itself', async () => {
    const { sut, mocks } = setup();
    await sut.record(
      { username: 'alice', kind: 'user' },
      'user.create',
      'bob',
      { role: 'viewer' },
      '10.0.0.1',
    );
    await sut.record('system', 'user.create', 'admin', {}, 'local');
    expect(mocks.audit.events).toEqual([
      expect.objectContaining({
        actor: 'alice',
        actorKind: 'user',
        action: 'user.create',
        detail: '{"role":"viewer"}',
      }),
      expect.objectContaining({ actor: 'system', actorKind: 'system', target: 'admin', ip: 'local' }),
    ]);
  });

  it('hands back logins, failed ones too, as attempts to replay', async () => {
    const { sut, mocks } = setup();
    await sut.record({ username: 'eve', kind: 'user' }, LOGIN_ACTIONS.failed, 'alice', {}, '10.0.0.9');
    await sut.record({ username: 'alice', kind: 'user' }, 'user.create', 'bob', {}, '10.0.0.1');
    await sut.record({ username: 'alice', kind: 'user' }, LOGIN_ACTIONS.succeeded, 'alice', {}, '10.0.0.1');
    const attempts = await sut.loginsSince(0);
    expect(attempts.map(({ username, ip, ok }) => ({ username, ip, ok }))).toEqual([
      { username: 'alice', ip: '10.0.0.9', ok: false },
      { username: 'alice', ip: '10.0.0.1', ok: true },
    ]);
    expect(mocks.audit.since).toHaveBeenCalledWith(
      [LOGIN_ACTIONS.succeeded, LOGIN_ACTIONS.failed],
      0,
      100_000,
    );
  });

  it('lists a range newest first within the row limit, and refuses bad ranges', async () => {
    const { sut, mocks } = setup();
    await sut.record('system', 'a', 't', {}, 'local');
    const [event] = await sut.list({ to: String(Date.now() + 1000) });
    expect(event).toMatchObject({ actor: 'system', action: 'a', ts: expect.stringMatching(/Z$/) });
    expect(mocks.audit.list).toHaveBeenCalledWith(expect.any(Number), expect.any(Number), 50);
    await expect(sut.list({ limit: 51 })).rejects.toThrow(/limit: expected at most 50/);
    await expect(sut.list({ from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' })).rejects.toThrow(
      /from: expected a time before to/,
    );
  });
});
