import type { CookieOptions, Request, Response } from 'express';

/**
 * The refresh token of a browser session: httpOnly (no script reads it), SameSite=Strict (no other site's
 * page sends it) and scoped to the auth routes, the only ones that need it.
 */
export const REFRESH_COOKIE = 'sentio_refresh';
export const REFRESH_COOKIE_PATH = '/api/auth';

/** The cookie's value from the request's Cookie header; no cookie-parser needed for one cookie. */
export function readRefreshCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === REFRESH_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

function options(req: Request, secure: boolean): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'strict',
    path: REFRESH_COOKIE_PATH,
    // Secure by config (production) or whenever the request itself came over https.
    secure: secure || req.secure,
  };
}

export function setRefreshCookie(
  req: Request,
  res: Response,
  token: string,
  maxAgeSeconds: number,
  secure: boolean,
): void {
  res.cookie(REFRESH_COOKIE, token, { ...options(req, secure), maxAge: maxAgeSeconds * 1000 });
}

export function clearRefreshCookie(req: Request, res: Response, secure: boolean): void {
  res.clearCookie(REFRESH_COOKIE, options(req, secure));
}
