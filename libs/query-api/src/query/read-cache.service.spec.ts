import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { specConfig } from '../common/spec-fakes.util.js';
import { rangeKey, ReadCache } from './read-cache.service.js';

const viewer: AuthenticatedUser = { username: 'v', role: 'viewer', kind: 'user' };
const viewer2: AuthenticatedUser = { username: 'w', role: 'viewer', kind: 'api-key' };
const admin: AuthenticatedUser = { username: 'a', role: 'admin', kind: 'user' };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const cache = (env: Record<string, string> = {}, mode: 'embedded' | 'server' = 'embedded') =>
  new ReadCache(specConfig(env), { mode });

afterEach(() => vi.useRealTimers());

describe('ReadCache', () => {
  it('runs identical questions in flight once, and serves the answer again until the TTL passes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sut = cache({ QUERY_API_CACHE_TTL_MS: '2000' });
    const run = vi.fn(async () => ({ rows: run.mock.calls.length }));
    const [a, b] = await Promise.all([
      sut.read(viewer, ['q', { x: 1 }], run),
      sut.read(viewer2, ['q', { x: 1 }], run),
    ]);
    expect(run).toHaveBeenCalledTimes(1);
    expect(a).toEqual({ rows: 1 });
    expect(b).toBe(a);
    vi.advanceTimersByTime(1999);
    expect(await sut.read(viewer, ['q', { x: 1 }], run)).toEqual({ rows: 1 });
    vi.advanceTimersByTime(2);
    // Expired: the old answer still serves at once while one fresh read replaces it...
    expect(await sut.read(viewer, ['q', { x: 1 }], run)).toEqual({ rows: 1 });
    expect(await sut.read(viewer, ['q', { x: 1 }], run)).toEqual({ rows: 1 });
    await new Promise((r) => setImmediate(r));
    expect(run).toHaveBeenCalledTimes(2);
    // ...and answers once it arrives.
    expect(await sut.read(viewer, ['q', { x: 1 }], run)).toEqual({ rows: 2 });
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('waits for a fresh answer once the kept one is older than TTL + staleMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sut = cache({ QUERY_API_CACHE_TTL_MS: '1000', QUERY_API_CACHE_STALE_MS: '5000' });
    let n = 0;
    const run = async () => ++n;
    expect(await sut.read(viewer, 'q', run)).toBe(1);
    vi.advanceTimersByTime(6001);
    expect(await sut.read(viewer, 'q', run)).toBe(2);
  });

  it('keeps serving the expired answer when its refresh fails, and tries again on the next call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const sut = cache({ QUERY_API_CACHE_TTL_MS: '1000' });
    const runs: string[] = [];
    expect(await sut.read(viewer, 'q', async () => 'first')).toBe('first');
    vi.advanceTimersByTime(1001);
    const failing = async () => {
      runs.push('failed');
      throw new Error('engine busy');
    };
    expect(await sut.read(viewer, 'q', failing)).toBe('first');
    await new Promise((r) => setImmediate(r));
    expect(await sut.read(viewer, 'q', async () => (runs.push('ok'), 'second'))).toBe('first');
    await new Promise((r) => setImmediate(r));
    expect(await sut.read(viewer, 'q', failing)).toBe('second');
    expect(runs).toEqual(['failed', 'ok']);
  });

  it("never serves one role's answer to another role, nor a different question's", async () => {
    const sut = cache();
    const asViewer = await sut.read(viewer, ['q', 1], async () => 'viewer data');
    const asAdmin = await sut.read(admin, ['q', 1], async () => 'admin data');
    const other = await sut.read(viewer, ['q', 2], async () => 'other question');
    expect([asViewer, asAdmin, other]).toEqual(['viewer data', 'admin data', 'other question']);
    expect(await sut.read(admin, ['q', 1], async () => 'again')).toBe('admin data');
  });

  it('keeps no failure: the next caller asks again', async () => {
    const sut = cache();
    await expect(
      sut.read(viewer, ['q'], async () => {
        throw new Error('engine down');
      }),
    ).rejects.toThrow('engine down');
    expect(await sut.read(viewer, ['q'], async () => 'recovered')).toBe('recovered');
  });

  it('shares nothing without a caller, and nothing after the TTL when it is 0', async () => {
    const sut = cache({ QUERY_API_CACHE_TTL_MS: '0' });
    const run = vi.fn(async () => 'x');
    await sut.read(undefined, ['q'], run);
    await sut.read(undefined, ['q'], run);
    await sut.read(viewer, ['q'], run);
    await sut.read(viewer, ['q'], run);
    expect(run).toHaveBeenCalledTimes(4);
    expect(sut.size).toBe(0);
  });

  it('lets at most maxConcurrentReads reads into the engine; the rest start as slots free, in order', async () => {
    const sut = cache({ QUERY_API_MAX_CONCURRENT_READS: '2' });
    const started: number[] = [];
    const gates = [0, 1, 2, 3].map(() => deferred<number>());
    const reads = gates.map((g, i) =>
      sut.read(viewer, ['q', i], () => {
        started.push(i);
        return g.promise;
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve(1);
    await reads[1];
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.reject(new Error('failed read frees its slot too'));
    await expect(reads[0]).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1, 2, 3]);
    gates[2]!.resolve(2);
    gates[3]!.resolve(3);
    expect(await Promise.all(reads.slice(1))).toEqual([1, 2, 3]);
  });

  it('bounds reads to 2 with the embedded engine and 16 with a server unless configured', async () => {
    for (const [mode, bound] of [
      ['embedded', 2],
      ['server', 16],
    ] as const) {
      const sut = cache({}, mode);
      let running = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          sut.read(undefined, i, async () => {
            most = Math.max(most, ++running);
            await new Promise((r) => setTimeout(r, 2));
            running--;
          }),
        ),
      );
      expect(most).toBe(bound);
    }
  });

  it('drops the oldest answers beyond maxEntries', async () => {
    const sut = cache({ QUERY_API_CACHE_MAX_ENTRIES: '3' });
    for (let i = 0; i < 5; i++) await sut.read(viewer, i, async () => i);
    expect(sut.size).toBe(3);
    expect(await sut.read(viewer, 0, async () => 'recomputed')).toBe('recomputed');
    expect(await sut.read(viewer, 4, async () => 'recomputed')).toBe(4);
  });
});

describe('rangeKey', () => {
  const now = 1_800_000_000_000;
  it('keys a range ending now by its span, so "the last hour" asked ms apart is one question', () => {
    const a = rangeKey({ fromMs: now - 3_600_000, toMs: now }, 2000, now);
    const b = rangeKey({ fromMs: now + 700 - 3_600_000, toMs: now + 700 }, 2000, now + 1500);
    expect(a).toEqual({ live: 3600 });
    expect(b).toEqual(a);
  });
  it('keys a past range by its exact ends', () => {
    expect(rangeKey({ fromMs: now - 7200_000, toMs: now - 3600_000 }, 2000, now)).toEqual({
      fromMs: now - 7200_000,
      toMs: now - 3600_000,
    });
  });
});
