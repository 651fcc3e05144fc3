import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@sentio/observability';
import type { NextFunction, Request, Response } from 'express';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER } from '../query-api.tokens.js';
import { consolePolicy } from './content-security-policy.util.js';

/** apps/web's Angular build output in this repository (libs/query-api/src/console -> apps/web/dist/browser). */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(
  new URL('../../../../apps/web/dist/browser', import.meta.url),
);

/** Paths that belong to the API and the probes: never answered with the console, even when unmatched. */
const RESERVED = /^\/(?:api|health|metrics)(?:\/|$)/;
/**
 * Angular's hashed output names (`main-5NQ7ZSTY.js`, `chunk-C-dNgt2e.js`) and everything under media/: their
 * content never changes. A hash has an upper-case letter or a digit, which a plain name such as
 * `app-launcher.svg` copied from public/ does not.
 */
const HASHED = /-(?=[\w-]{0,7}[A-Z0-9])[\w-]{8}\.[a-z0-9]+$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The placeholder apps/web puts where a per-response nonce belongs (`<app-root ngCspNonce="__CSP_NONCE__">`). */
const NONCE_PLACEHOLDER = /__CSP_NONCE__/g;
/**
 * Text files, which are sent compressed when the client accepts it: the `.br`/`.gz` copy the build wrote beside
 * the file (tools/cli/src/console-build.ts), or else gzip made per request. Fonts and images are compressed already.
 */
const COMPRESSIBLE = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.svg',
  '.json',
  '.map',
  '.txt',
  '.xml',
  '.webmanifest',
]);
/** Precompressed copies, best first, by their Content-Encoding. */
const PRECOMPRESSED = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;
const gzip = promisify(gzipCallback);

/**
 * Serves the operator console's build at `/`: its files, and index.html for any other page address the
 * browser navigates to (the console routes on the client). Runs after every route of the process, so it
 * never hides one. Every answer carries the console's Content-Security-Policy.
 */
@Injectable()
export class ConsoleFilesService {
  readonly root: string;
  private index?: { mtimeMs: number; html: string };

  constructor(
    @Inject(QUERY_API_CONFIG) config: QueryApiConfig,
    @Inject(QUERY_API_LOGGER) private readonly logger: Logger,
  ) {
    this.root = resolve(config.consoleDir ?? DEFAULT_CONSOLE_DIR);
  }

  /** Express middleware; anything that is not the console's passes on (and ends as a 404 of the API). */
  readonly handle = (req: Request, res: Response, next: NextFunction): void => {
    this.serve(req, res).then(
      (served) => {
        if (!served) next();
      },
      (error: unknown) => next(error),
    );
  };

  private async serve(req: Request, res: Response): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = safePath(req.path);
    if (path === undefined || RESERVED.test(path)) return false;
    if (path !== '/' && !path.endsWith('/')) {
      const file = resolve(this.root, `.${path}`);
      if (file.startsWith(this.root + sep) && (await isFile(file))) {
        this.secure(req, res, '');
        const hashed = HASHED.test(basename(file)) || path.startsWith('/media/');
        await sendAsset(req, res, file, hashed ? IMMUTABLE : 'no-cache');
        return true;
      }
      // A missing asset is a 404; only a page address (no extension) falls back to the app.
      if (extname(path) !== '' || !accepts(req, 'text/html')) return false;
    }
    return this.sendIndex(req, res);
  }

  private async sendIndex(req: Request, res: Response): Promise<boolean> {
    const html = await this.readIndex();
    const nonce = randomBytes(16).toString('base64');
    this.secure(req, res, nonce);
    res.setHeader('Cache-Control', 'no-cache');
    if (html === undefined) {
      res
        .status(404)
        .type('text/plain')
        .send(`console not built: no index.html in ${this.root} (npm run build -w apps/web)\n`);
      return true;
    }
    res.vary('Accept-Encoding');
    const page = html.replace(NONCE_PLACEHOLDER, nonce);
    if (acceptedEncodings(req).has('gzip')) {
      res.setHeader('Content-Encoding', 'gzip');
      res
        .status(200)
        .type('html')
        .send(await gzip(page));
    } else {
      res.status(200).type('html').send(page);
    }
    return true;
  }

  /** Re-read when the file changes, so a rebuild shows without a restart. */
  private async readIndex(): Promise<string | undefined> {
    const file = resolve(this.root, 'index.html');
    try {
      const { mtimeMs } = await stat(file);
      if (this.index?.mtimeMs !== mtimeMs) {
        this.index = { mtimeMs, html: await readFile(file, 'utf8') };
      }
      return this.index.html;
    } catch {
      if (this.index === undefined) this.logger.warn({ root: this.root }, 'query-api: console not built');
      this.index = undefined;
      return undefined;
    }
  }

  private secure(req: Request, res: Response, nonce: string): void {
    res.setHeader(
      'Content-Security-Policy',
      consolePolicy(nonce || randomBytes(16).toString('base64'), req.headers.host),
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
  }
}

/** The decoded request path, or undefined for one that is malformed or reaches for hidden files. */
function safePath(raw: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\') || path.split('/').some((s) => s.startsWith('.'))) {
    return undefined;
  }
  return path;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function accepts(req: Request, type: string): boolean {
  return (req.headers.accept ?? '').includes(type);
}

/** The codings among br and gzip that Accept-Encoding allows (q > 0, by name or by `*`). */
function acceptedEncodings(req: Request): Set<string> {
  const q = new Map<string, number>();
  for (const part of (req.headers['accept-encoding'] ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const weight = params.find((p) => p.startsWith('q='));
    q.set(name, weight === undefined ? 1 : Number(weight.slice(2)) || 0);
  }
  const allowed = (name: string) => (q.get(name) ?? q.get('*') ?? 0) > 0;
  return new Set(['br', 'gzip'].filter(allowed));
}

/**
 * One file of the build: a text file compressed as the client accepts (its precompressed copy when one at
 * least as new exists, else gzip now), anything else as it is. Every text answer says `Vary: Accept-Encoding`,
 * so a cache never hands one coding to a client that did not ask for it.
 */
async function sendAsset(req: Request, res: Response, file: string, cacheControl: string): Promise<void> {
  const type = extname(file);
  if (!COMPRESSIBLE.has(type)) return sendFile(res, file, cacheControl);
  res.vary('Accept-Encoding');
  const accepted = acceptedEncodings(req);
  if (accepted.size === 0) return sendFile(res, file, cacheControl);
  const { mtimeMs, size } = await stat(file);
  for (const { encoding, suffix } of PRECOMPRESSED) {
    if (!accepted.has(encoding)) continue;
    const copy = await stat(file + suffix).catch(() => undefined);
    if (!copy?.isFile() || copy.mtimeMs < mtimeMs) continue;
    // send takes the type from the name (.br, .gz) unless it is set; its ETag is the copy's, unlike identity's.
    res.type(type);
    res.setHeader('Content-Encoding', encoding);
    return sendFile(res, file + suffix, cacheControl);
  }
  if (!accepted.has('gzip')) return sendFile(res, file, cacheControl);
  // No copy from the build (a file from public/, or a build by `ng build` alone): gzip it per request.
  const etag = `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}-gzip"`;
  res.type(type);
  res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', new Date(mtimeMs).toUTCString());
  if (req.fresh) {
    res.removeHeader('Content-Encoding');
    res.status(304).end();
    return;
  }
  const body = await gzip(await readFile(file));
  res.setHeader('Content-Length', body.length);
  res.status(200);
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}

/** Express's sendFile: content type, ETag and Last-Modified, conditional GET (304), ranges, HEAD. */
function sendFile(res: Response, file: string, cacheControl: string): Promise<void> {
  return new Promise((done, fail) => {
    res.sendFile(file, { cacheControl: false, headers: { 'Cache-Control': cacheControl } }, (error) =>
      error && !res.headersSent ? fail(error) : done(),
    );
  });
}
