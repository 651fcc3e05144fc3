import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './support/backbone.js';
import { PlatformProcess } from './support/platform-process.js';
import { precompressConsole } from '../../tools/cli/src/console-build.js';

const ADMIN = { username: 'admin', password: 'admin-password-1234' };
const VICTIM = { username: 'victim', password: 'victim-password-1234' };
const SECRET = randomBytes(32).toString('hex');

/** A bundle big enough to be precompressed (the build skips files under 1 kB). */
const MAIN_JS = Array.from({ length: 200 }, (_, i) => `console.log("sentio ${i}");\n`).join('');
/** A plain file from public/, compressible but with no copies from the build: gzip per request. */
const MANIFEST = JSON.stringify({ name: 'Sentio', icons: Array(60).fill({ src: 'app-launcher.svg' }) });

/**
 * A console build as Angular writes it and the CLI's post-build step completes it: hashed bundles with their
 * .br/.gz copies, media/, and an index.html with the nonce placeholder.
 */
function consoleBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentio-console-'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html><head><script src="main-AB12CD34.js" type="module"></script></head>' +
      '<body><app-root ngCspNonce="__CSP_NONCE__"></app-root></body></html>',
  );
  writeFileSync(join(dir, 'main-AB12CD34.js'), MAIN_JS);
  writeFileSync(join(dir, 'chunk-C-dNgt2e.js'), 'export const x = 1;\n');
  writeFileSync(join(dir, 'app-launcher.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(dir, 'favicon.ico'), Buffer.from([0, 0, 1, 0]));
  mkdirSync(join(dir, 'media'));
  writeFileSync(join(dir, 'media', 'roboto-ZX98YW76.woff2'), Buffer.from('wOF2'));
  // Written only after the copies are made, so it has none: the server must compress it per request.
  if (precompressConsole(dir) !== 1) throw new Error('expected copies of main-AB12CD34.js only');
  writeFileSync(join(dir, 'manifest.webmanifest'), MANIFEST);
  writeFileSync(join(dir, '.env'), 'SECRET=1');
  return dir;
}

/** The attributes of one Set-Cookie line, by lower-case name (`value` is the cookie's own value). */
function cookie(
  res: Response,
  name = 'sentio_refresh',
): ({ value: string } & Record<string, string>) | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...attributes] = line.split(';').map((s) => s.trim());
  const out: { value: string } & Record<string, string> = { value: pair!.slice(name.length + 1) };
  for (const a of attributes) {
    const eq = a.indexOf('=');
    out[(eq < 0 ? a : a.slice(0, eq)).toLowerCase()] = eq < 0 ? '' : a.slice(eq + 1);
  }
  return out;
}

describe('query API: console serving, refresh cookie, restarts and introspection, on the real platform', () => {
  let box: Sandbox;
  let platform: PlatformProcess | undefined;
  const build = consoleBuild();
  const emptyBuild = mkdtempSync(join(tmpdir(), 'sentio-console-empty-'));

  const start = (env: Record<string, string>) =>
    PlatformProcess.start('api', { ...box.env, ...env }, 'live-feed');
  const url = (path: string) => `${platform!.baseUrl}${path}`;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(url(path), { headers });
  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  /** A request with the path exactly as written: fetch would resolve `..` and add cache headers of its own. */
  const raw = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(platform!.baseUrl);
      httpGet({ hostname, port, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      }).on('error', reject);
    });
  /** The bytes as sent (fetch would decode them), with the response headers. */
  const bytes = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const { hostname, port } = new URL(platform!.baseUrl);
      httpRequest({ hostname, port, path, headers, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
        .on('error', reject)
        .end();
    });
  const withCookie = (value: string) => ({ cookie: `other=1; sentio_refresh=${value}` });
  const page = { accept: 'text/html,application/xhtml+xml' };

  beforeAll(async () => {
    box = await sandbox('query_api_console');
  });

  afterAll(async () => {
    await platform?.stop();
  });

  describe('a fresh install, with a console build', () => {
    beforeAll(async () => {
      platform = await start({ SENTIO_CONSOLE_DIR: build });
    });
    afterAll(async () => {
      await platform?.stop();
      platform = undefined;
    });

    it('says that no admin exists yet, publicly', async () => {
      const res = await get('/api/auth/status');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        adminExists: false,
        message: expect.stringMatching(/No admin exists yet.*SENTIO_ADMIN_USER and SENTIO_ADMIN_PASSWORD/),
      });
    });

    it('serves index.html at / and for any page address, uncached, with a fresh nonce under a strict CSP', async () => {
      const nonces = new Set<string>();
      for (const path of ['/', '/fleet', '/devices/pump-0001?from=now-1h&live=1']) {
        const res = await get(path, page);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.headers.get('cache-control')).toBe('no-cache');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        const csp = res.headers.get('content-security-policy')!;
        const nonce = /script-src 'self' 'nonce-([\w+/=]+)'/.exec(csp)?.[1];
        expect(nonce, csp).toBeDefined();
        nonces.add(nonce!);
        const host = new URL(platform!.baseUrl).host;
        expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host}`);
        for (const directive of [
          "default-src 'self'",
          "style-src 'self' 'unsafe-inline'",
          "object-src 'none'",
          "frame-ancestors 'none'",
          "base-uri 'self'",
        ]) {
          expect(csp).toContain(directive);
        }
        expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
        const html = await res.text();
        expect(html).toContain(`<app-root ngCspNonce="${nonce}">`);
        expect(html).not.toContain('__CSP_NONCE__');
      }
      expect(nonces.size).toBe(3);
    });

    it('caches hashed assets for a year as immutable, other files only with revalidation', async () => {
      const main = await get('/main-AB12CD34.js');
      expect(main.status).toBe(200);
      expect(main.headers.get('content-type')).toMatch(/javascript/);
      expect(main.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await main.text()).toBe(MAIN_JS);
      // Each coding is its own representation with its own ETag: revalidate with the coding fetch asked for.
      const etag = main.headers.get('etag')!;
      const coding = { 'accept-encoding': main.headers.get('content-encoding') ?? 'identity' };
      expect((await raw('/main-AB12CD34.js', { ...coding, 'if-none-match': etag })).status).toBe(304);

      const chunk = await get('/chunk-C-dNgt2e.js');
      expect(chunk.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // A plain name copied from public/ may change under the same name: revalidated.
      expect((await get('/app-launcher.svg')).headers.get('cache-control')).toBe('no-cache');
      const font = await get('/media/roboto-ZX98YW76.woff2');
      expect(font.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const icon = await get('/favicon.ico');
      expect(icon.status).toBe(200);
      expect(icon.headers.get('cache-control')).toBe('no-cache');
    });

    it("sends text files in the coding Accept-Encoding asks for: the build's .br/.gz copies, else gzip now", async () => {
      const file = readFileSync(join(build, 'main-AB12CD34.js'));
      expect(existsSync(join(build, 'main-AB12CD34.js.br'))).toBe(true);
      const decode = { br: brotliDecompressSync, gzip: gunzipSync, none: (b: Buffer) => b } as const;
      const cases = [
        { accept: 'gzip', coding: 'gzip' },
        { accept: 'br', coding: 'br' },
        { accept: 'gzip, deflate, br, zstd', coding: 'br' },
        { accept: 'br;q=0, gzip;q=0.5', coding: 'gzip' },
        { accept: '*', coding: 'br' },
        { accept: 'identity', coding: 'none' },
        { accept: 'deflate, br;q=0, gzip;q=0', coding: 'none' },
        { accept: undefined, coding: 'none' },
      ] as const;
      for (const { accept, coding } of cases) {
        const res = await bytes(
          '/main-AB12CD34.js',
          accept === undefined ? {} : { 'accept-encoding': accept },
        );
        expect(res.status, accept).toBe(200);
        expect(res.headers['content-encoding'], accept).toBe(coding === 'none' ? undefined : coding);
        expect(res.headers['vary'], accept).toMatch(/accept-encoding/i);
        expect(res.headers['content-type'], accept).toMatch(/^text\/javascript|^application\/javascript/);
        expect(res.headers['cache-control'], accept).toBe('public, max-age=31536000, immutable');
        expect(Number(res.headers['content-length']), accept).toBe(res.body.length);
        if (coding !== 'none') expect(res.body.length, accept).toBeLessThan(file.length / 4);
        expect(decode[coding](res.body).equals(file), accept).toBe(true);
      }
      const head = await bytes('/main-AB12CD34.js', { 'accept-encoding': 'br' }, 'HEAD');
      expect(head.headers['content-encoding']).toBe('br');
      expect(head.body.length).toBe(0);

      // No copy from the build: gzip per request (br alone is not made per request), with its own validator.
      const manifest = Buffer.from(MANIFEST);
      const gz = await bytes('/manifest.webmanifest', { 'accept-encoding': 'gzip, br' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers['content-type']).toMatch(/^application\/manifest\+json/);
      expect(gz.headers['cache-control']).toBe('no-cache');
      expect(gz.headers['vary']).toMatch(/accept-encoding/i);
      expect(gunzipSync(gz.body).equals(manifest)).toBe(true);
      expect(gz.body.length).toBeLessThan(manifest.length / 4);
      const again = await bytes('/manifest.webmanifest', {
        'accept-encoding': 'gzip',
        'if-none-match': String(gz.headers['etag']),
      });
      expect(again.status).toBe(304);
      const brOnly = await bytes('/manifest.webmanifest', { 'accept-encoding': 'br' });
      expect(brOnly.headers['content-encoding']).toBeUndefined();
      expect(brOnly.body.equals(manifest)).toBe(true);

      // index.html carries a fresh nonce, so it is gzipped per answer; fonts are sent as they are.
      const index = await bytes('/', { ...page, 'accept-encoding': 'gzip' });
      expect(index.headers['content-encoding']).toBe('gzip');
      expect(index.headers['vary']).toMatch(/accept-encoding/i);
      expect(gunzipSync(index.body).toString()).toMatch(/<app-root ngCspNonce="[\w+/=]+">/);
      const font = await bytes('/media/roboto-ZX98YW76.woff2', { 'accept-encoding': 'gzip, br' });
      expect(font.headers['content-encoding']).toBeUndefined();
      expect(font.body.toString()).toBe('wOF2');
    });

    it('never answers API addresses, missing assets, hidden files or paths out of the folder with the console', async () => {
      const missingAsset = await get('/main-FFFFFFFF.js', page);
      expect(missingAsset.status).toBe(404);
      const api = await get('/api/no-such-route', page);
      expect(api.status).toBe(404);
      expect(api.headers.get('content-type')).toMatch(/json/);
      const health = await get('/health', page);
      expect(health.headers.get('content-type')).toMatch(/json/);
      for (const path of ['/.env', '/%2e%2e/%2e%2e/etc/passwd', '/media/..%2f..%2f.env', '/..%5c.env']) {
        const res = await raw(path, page);
        expect(res.status, path).toBe(404);
        expect(res.body, path).not.toMatch(/SECRET=1|root:/);
      }
      expect((await post('/fleet', {})).status).toBe(404);
    });
  });

  let survivingCookie: string;
  let oldAccessToken: string;

  describe('sessions in a cookie', () => {
    beforeAll(async () => {
      platform = await start({
        SENTIO_ADMIN_USER: ADMIN.username,
        SENTIO_ADMIN_PASSWORD: ADMIN.password,
        QUERY_API_LOGIN_MAX_ATTEMPTS: '3',
        SENTIO_CONSOLE_DIR: emptyBuild,
      });
    });

    it('says the admin exists, and that the console is not built', async () => {
      expect(await (await get('/api/auth/status')).json()).toEqual({ adminExists: true });
      const res = await get('/', page);
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/console not built/);
    });

    it('sets an httpOnly SameSite=Strict cookie at login, scoped to the auth routes', async () => {
      const res = await post('/api/auth/login', ADMIN);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ tokenType: 'Bearer', role: 'admin', username: 'admin', expiresIn: 900 });
      const set = cookie(res)!;
      expect(set).toMatchObject({
        value: body['refreshToken'],
        httponly: '',
        samesite: 'Strict',
        path: '/api/auth',
        'max-age': String(7 * 24 * 3600),
      });
      expect(set).not.toHaveProperty('secure');
    });

    it('refreshes from the cookie alone, rotating it; a rotated cookie presented again ends every session', async () => {
      const login = await post('/api/auth/login', ADMIN);
      const first = cookie(login)!.value;
      const refreshed = await post('/api/auth/refresh', undefined, withCookie(first));
      expect(refreshed.status).toBe(200);
      const { accessToken } = (await refreshed.json()) as { accessToken: string };
      const second = cookie(refreshed)!.value;
      expect(second).not.toBe(first);
      const me = await get('/api/auth/me', { authorization: `Bearer ${accessToken}` });
      expect(await me.json()).toEqual({ username: 'admin', role: 'admin', kind: 'user' });

      const reused = await post('/api/auth/refresh', {}, withCookie(first));
      expect(reused.status).toBe(401);
      // The dead cookie is cleared, and the theft response revoked the rotated one too.
      expect(cookie(reused)).toMatchObject({ value: '', path: '/api/auth' });
      expect(cookie(reused)!['expires']).toMatch(/1970/);
      expect((await post('/api/auth/refresh', undefined, withCookie(second))).status).toBe(401);
      expect((await get('/api/auth/me', { authorization: `Bearer ${accessToken}` })).status).toBe(401);
      expect((await post('/api/auth/refresh')).status).toBe(401);
    });

    it('logs out by cookie: the token is revoked and the cookie cleared; without one it is a no-op', async () => {
      const session = cookie(await post('/api/auth/login', ADMIN))!.value;
      const out = await post('/api/auth/logout', undefined, withCookie(session));
      expect(out.status).toBe(204);
      expect(cookie(out)!['expires']).toMatch(/1970/);
      expect((await post('/api/auth/refresh', undefined, withCookie(session))).status).toBe(401);
      expect((await post('/api/auth/logout')).status).toBe(204);
      expect((await post('/api/auth/logout', { refreshToken: 'not-a-token' })).status).toBe(401);
    });

    it('locks a guessed-at user out', async () => {
      const login = await post('/api/auth/login', ADMIN);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const created = await post(
        '/api/users',
        { ...VICTIM, role: 'viewer' },
        { authorization: `Bearer ${accessToken}` },
      );
      expect(created.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        expect((await post('/api/auth/login', { ...VICTIM, password: `guess-${i}` })).status).toBe(401);
      }
      expect((await post('/api/auth/login', VICTIM)).status).toBe(429);

      const session = await post('/api/auth/login', ADMIN);
      survivingCookie = cookie(session)!.value;
      oldAccessToken = ((await session.json()) as { accessToken: string }).accessToken;
    });

    it('is killed (kill -9)', async () => {
      platform!.child.kill('SIGKILL');
      expect(await platform!.exited()).toBe('SIGKILL');
      platform = undefined;
    });
  });

  describe('after the restart, in production mode', () => {
    beforeAll(async () => {
      platform = await start({
        NODE_ENV: 'production',
        SENTIO_JWT_SECRET: SECRET,
        QUERY_API_LOGIN_MAX_ATTEMPTS: '3',
        SENTIO_CONSOLE_DIR: emptyBuild,
      });
    });

    it('keeps the lockout: it is rebuilt from the logins on the audit trail', async () => {
      const res = await post('/api/auth/login', VICTIM);
      expect(res.status).toBe(429);
      expect(((await res.json()) as { message: string }).message).toMatch(/too many failed logins/);
      expect(platform!.log).toMatch(/login throttle restored from the audit trail/);
    });

    it("keeps sessions: the killed process's refresh cookie still works, its access token does not", async () => {
      // The access token was signed with the old process's random secret; the refresh token is server-side
      // state in ClickHouse, so a restart (or a deploy) does not sign everyone out. Decided in the README.
      expect((await get('/api/auth/me', { authorization: `Bearer ${oldAccessToken}` })).status).toBe(401);
      const res = await post('/api/auth/refresh', undefined, withCookie(survivingCookie));
      expect(res.status).toBe(200);
      // Production: the cookie is Secure even over plain http (behind a TLS-terminating proxy).
      expect(cookie(res)).toHaveProperty('secure');
      const { accessToken } = (await res.json()) as { accessToken: string };
      expect((await get('/api/auth/me', { authorization: `Bearer ${accessToken}` })).status).toBe(200);
    });

    it('refuses introspection and keeps the OpenAPI document for signed-in callers', async () => {
      const { accessToken } = (await (await post('/api/auth/login', ADMIN)).json()) as {
        accessToken: string;
      };
      const auth = { authorization: `Bearer ${accessToken}` };
      for (const headers of [{}, auth]) {
        const res = await post('/api/graphql', { query: '{ __schema { queryType { name } } }' }, headers);
        const body = (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> };
        expect(body.data).toBeUndefined();
        expect(body.errors?.[0]?.message).toMatch(/introspection/i);
      }
      expect((await get('/api/docs-json')).status).toBe(401);
      const docs = await get('/api/docs-json', auth);
      expect(docs.status).toBe(200);
      expect(Object.keys(((await docs.json()) as { paths: object }).paths)).toContain('/api/auth/status');
      // Ordinary queries are unaffected.
      const devices = await post('/api/graphql', { query: '{ devices { items { deviceId } } }' }, auth);
      expect(((await devices.json()) as { errors?: unknown }).errors).toBeUndefined();
    });
  });
});
