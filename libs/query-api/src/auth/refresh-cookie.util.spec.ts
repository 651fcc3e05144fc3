import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { readRefreshCookie } from './refresh-cookie.util.js';

const req = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as Request;

describe('readRefreshCookie', () => {
  it('finds the refresh cookie among others', () => {
    expect(readRefreshCookie(req('a=1; sentio_refresh=id.secret; b=2'))).toBe('id.secret');
    expect(readRefreshCookie(req('sentio_refresh=x'))).toBe('x');
  });

  it('reads nothing from no header, an empty value or a look-alike name', () => {
    expect(readRefreshCookie(req())).toBeUndefined();
    expect(readRefreshCookie(req('sentio_refresh='))).toBeUndefined();
    expect(readRefreshCookie(req('xsentio_refresh=1; sentio_refresh_old=2'))).toBeUndefined();
  });
});
