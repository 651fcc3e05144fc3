import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/**
 * A real Home Assistant Core for tests: 2024.3.3, the newest release that runs on Python 3.11, in the venv
 * tools/peers/install.sh makes (~/.cache/sentio/ha-venv). Core itself installs its frontend's requirements
 * into the same venv on its first start.
 */
const venv = process.env['SENTIO_HA_VENV'] ?? join(homedir(), '.cache', 'sentio', 'ha-venv');
const hass = join(venv, 'bin', 'hass');
const USER = 'sentio';
const PASSWORD = 'sentio-test-password';
const CLIENT_ID = 'http://sentio.test/';

export interface HomeAssistantCore {
  url: string;
  /** A long-lived access token, made through the WebSocket API as the profile page does. */
  token: string;
  /** Sets an entity's state through POST /api/states/<entity_id>; Core fires state_changed. */
  setState(
    entityId: string,
    state: string,
    attributes?: Record<string, unknown>,
  ): Promise<{ last_updated: string }>;
  /** DELETE /api/states/<entity_id>: state_changed with new_state null. */
  removeEntity(entityId: string): Promise<void>;
  /** Stops and starts Core again on the same port and configuration, as an upgrade or a crash would. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
}

/** The venv is made by tools/peers/install.sh (CI runs it first); a developer's first test run makes it here. */
export function installHomeAssistantCore(): void {
  if (existsSync(hass)) return;
  run(join(dirname(fileURLToPath(import.meta.url)), 'install.sh'), []);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw new Error(`${response.url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Logs in with the login flow, then trades the short-lived token for a long-lived one over the WebSocket. */
async function longLivedToken(url: string): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const flow = await json<{ flow_id: string }>(
    await post('/auth/login_flow', {
      client_id: CLIENT_ID,
      handler: ['homeassistant', null],
      redirect_uri: CLIENT_ID,
    }),
  );
  const login = await json<{ result: string }>(
    await post(`/auth/login_flow/${flow.flow_id}`, {
      client_id: CLIENT_ID,
      username: USER,
      password: PASSWORD,
    }),
  );
  const { access_token } = await json<{ access_token: string }>(
    await fetch(`${url}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: login.result,
        client_id: CLIENT_ID,
      }),
    }),
  );
  const socket = new WebSocket(`${url.replace('http', 'ws')}/api/websocket`);
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { type: string; success?: boolean; result?: string };
        if (message.type === 'auth_required') socket.send(JSON.stringify({ type: 'auth', access_token }));
        else if (message.type === 'auth_ok')
          socket.send(
            JSON.stringify({
              id: 1,
              type: 'auth/long_lived_access_token',
              client_name: `sentio-test-${Date.now()}`,
              lifespan: 30,
            }),
          );
        else if (message.type === 'result' && message.success) resolve(message.result!);
        else reject(new Error(`unexpected ${data.toString()}`));
      });
    });
  } finally {
    socket.close();
  }
}

export async function startHomeAssistantCore(): Promise<HomeAssistantCore> {
  installHomeAssistantCore();
  const config = mkdtempSync(join(tmpdir(), 'sentio-ha-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(config, 'configuration.yaml'),
    [
      'homeassistant:',
      '  name: Sentio test',
      '  latitude: 0',
      '  longitude: 0',
      '  elevation: 0',
      '  unit_system: metric',
      '  time_zone: UTC',
      'http:',
      '  server_host: 127.0.0.1',
      `  server_port: ${port}`,
      'api:',
      'websocket_api:',
      '',
    ].join('\n'),
  );
  run(hass, ['--script', 'auth', '-c', config, 'add', USER, PASSWORD]);

  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    output = '';
    const started = spawn(hass, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Core answers 401 on /api/ once its HTTP server and the api component are up. The bound covers a first
    // start, which installs the frontend's requirements.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const status = await fetch(`${url}/api/`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 401) return;
      if (started.exitCode !== null || Date.now() > deadline)
        throw new Error(`Home Assistant Core did not start:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGTERM');
    await once(running, 'exit');
  };

  await start();
  const token = await longLivedToken(url);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
  return {
    url,
    token,
    async setState(entityId, state, attributes) {
      // POST replaces the attributes; left out, the current ones are kept, as an integration would.
      const current =
        attributes ??
        (await json<{ attributes: Record<string, unknown> }>(await api(`/api/states/${entityId}`)))
          .attributes;
      return json<{ last_updated: string }>(
        await api(`/api/states/${entityId}`, {
          method: 'POST',
          body: JSON.stringify({ state, attributes: current }),
        }),
      );
    },
    async removeEntity(entityId) {
      await json(await api(`/api/states/${entityId}`, { method: 'DELETE' }));
    },
    async restart() {
      // Core writes its auth store a moment after a change, and a first run (still installing frontend
      // requirements) may not flush it on the way down: wait until the token's refresh token is on disk, or a
      // restart would forget it.
      const refreshTokenId = (
        JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { iss: string }
      ).iss;
      const authStore = join(config, '.storage', 'auth');
      const saved = Date.now() + 60_000;
      while (!(existsSync(authStore) && readFileSync(authStore, 'utf8').includes(refreshTokenId))) {
        if (Date.now() > saved) throw new Error(`Home Assistant Core never saved the token to ${authStore}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await stop();
      await start();
      const deadline = Date.now() + 60_000;
      while ((await api('/api/')).status !== 200) {
        if (Date.now() > deadline)
          throw new Error(`Home Assistant Core refuses the token after a restart:\n${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    stop,
  };
}
