import { ConfigError, loadConfig } from '@sentio/config';
import { describe, expect, it } from 'vitest';
import { queryApiConfigSection } from './query-api.config.js';

const load = (env: Record<string, string>) => loadConfig([queryApiConfigSection], { env }).queryApi;

describe('queryApi config', () => {
  it('runs outside production without a secret (one is generated per process)', () => {
    const config = load({});
    expect(config.jwtSecret).toBeUndefined();
    expect(config.accessTokenTtlSeconds).toBe(900);
    expect(config.limits).toEqual({ maxRangeDays: 366, maxRows: 10_000 });
  });

  it('refuses production without a secret, naming the variable', () => {
    expect(() => load({ NODE_ENV: 'production' })).toThrow(
      /queryApi\.jwtSecret \(env SENTIO_JWT_SECRET\): expected a secret of at least 32/,
    );
  });

  it('refuses a weak secret in production', () => {
    expect(() => load({ NODE_ENV: 'production', SENTIO_JWT_SECRET: 'short' })).toThrow(ConfigError);
  });

  it('accepts a strong secret in production', () => {
    expect(load({ NODE_ENV: 'production', SENTIO_JWT_SECRET: 'x'.repeat(32) }).jwtSecret).toHaveLength(32);
  });

  it('turns introspection off and the cookie Secure in production, unless told otherwise', () => {
    const secret = { SENTIO_JWT_SECRET: 'x'.repeat(32) };
    expect(load({})).toMatchObject({ introspection: true, cookieSecure: false });
    expect(load({ NODE_ENV: 'production', ...secret })).toMatchObject({
      introspection: false,
      cookieSecure: true,
    });
    expect(load({ NODE_ENV: 'production', QUERY_API_INTROSPECTION: 'true', ...secret }).introspection).toBe(
      true,
    );
    expect(load({ QUERY_API_INTROSPECTION: 'false' }).introspection).toBe(false);
  });
});
