import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Real peers of the alerting tests: an HTTP receiver recording what arrives, aiosmtpd (STARTTLS + AUTH),
 * and Prometheus Alertmanager built from the Go module proxy by tools/peers/alerting-peers.sh.
 */
const here = import.meta.dirname;

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** An HTTP receiver; `respond` decides each answer (status, delay), default 200 at once. */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (req: ReceivedRequest) => { status: number; delayMs?: number } = () => ({ status: 200 });
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HttpReceiver> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const receiver = new HttpReceiver(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = {
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
          at: Date.now(),
        };
        receiver.requests.push(received);
        const { status, delayMs } = receiver.respond(received);
        setTimeout(() => res.writeHead(status).end(status < 300 ? 'ok' : 'failing'), delayMs ?? 0);
      });
    });
    return receiver;
  }

  json<T>(path?: string): T[] {
    return this.requests
      .filter((r) => path === undefined || r.path === path)
      .map((r) => JSON.parse(r.body) as T);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
  }
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} not ready in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${out}`));
    });
  });
}

/** aiosmtpd with STARTTLS (self-signed certificate) and AUTH required; messages land in `dir`. */
export class SmtpPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dir: string,
    readonly user: string,
    readonly password: string,
  ) {}

  static async start(): Promise<SmtpPeer> {
    const dir = mkdtempSync(join(tmpdir(), 'sentio-smtp-'));
    const mail = join(dir, 'mail');
    mkdirSync(mail);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const port = await freePort();
    const child = spawn(
      'python3',
      [
        join(here, 'alerting-smtp-server.py'),
        String(port),
        mail,
        join(dir, 'cert.pem'),
        join(dir, 'key.pem'),
        'sentio',
        'mail-secret',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await waitForLine(child, /ready/, 20_000, 'aiosmtpd');
    return new SmtpPeer(child, port, mail, 'sentio', 'mail-secret');
  }

  /** Raw messages received, oldest first. */
  messages(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .map((f) => readFileSync(join(this.dir, f), 'utf8'));
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    if (this.child.exitCode === null) await once(this.child, 'exit');
  }
}

export function alertmanagerBinary(): string {
  return join(process.env['SENTIO_CACHE'] ?? join(homedir(), '.cache/sentio'), 'go-bin/alertmanager');
}

/** A real Prometheus Alertmanager (v0.31.1), one node, receiving alerts through /api/v2/alerts. */
export class AlertmanagerPeer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<AlertmanagerPeer> {
    const binary = alertmanagerBinary();
    execFileSync(resolve(here, 'alerting-peers.sh'), { stdio: 'inherit' });
    const dir = mkdtempSync(join(tmpdir(), 'sentio-am-'));
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n',
    );
    const port = await freePort();
    const child = spawn(
      binary,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const peer = new AlertmanagerPeer(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${peer.url}/-/ready`)).ok) return peer;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGKILL');
    throw new Error('alertmanager not ready within 30 s');
  }

  async alerts(): Promise<
    Array<{
      labels: Record<string, string>;
      annotations: Record<string, string>;
      startsAt: string;
      endsAt: string;
      status: { state: string };
    }>
  > {
    return (await (
      await fetch(`${this.url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`)
    ).json()) as never;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    if (this.child.exitCode === null) await once(this.child, 'exit');
  }
}
