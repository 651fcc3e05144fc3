import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A stand-in for Home Assistant Core's REST and WebSocket APIs, for tests. It speaks the messages of the
 * developer documentation (developers.home-assistant.io, "REST API" and "WebSocket API"): `GET /api/states`
 * with a bearer token (401 otherwise); on `/api/websocket`, `auth_required`, then `auth_ok` or
 * `auth_invalid` for the `auth` message, `result` for `subscribe_events`, `event` messages carrying
 * `state_changed` with `entity_id`, `old_state` and `new_state` (null when an entity is removed), and
 * `pong` for `ping`. Only what the connector uses is served. It starts in milliseconds and shows what the
 * connector may rely on; home-assistant-core.ts runs the real Core against the same test.
 */
export interface HomeAssistantState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed: string;
  last_updated: string;
  context: { id: string; parent_id: null; user_id: null };
}

export interface HomeAssistantServer {
  url: string;
  /** Sets an entity's state as an integration would, firing state_changed to subscribers. */
  setState(entityId: string, state: string, attributes?: Record<string, unknown>): HomeAssistantState;
  removeEntity(entityId: string): void;
  /** Drops every WebSocket connection, as a restart of Home Assistant would. */
  dropConnections(): void;
  /** WebSocket sessions that subscribed to state_changed so far, the closed ones included. */
  subscriptionsMade(): number;
  /** Authentication attempts refused, REST and WebSocket together. */
  rejectedAuth(): number;
  stop(): Promise<void>;
}

const HA_VERSION = '2024.3.3';

export async function startHomeAssistantServer(options: {
  token: string;
  states?: Array<{ entity_id: string; state: string; attributes?: Record<string, unknown> }>;
}): Promise<HomeAssistantServer> {
  const states = new Map<string, HomeAssistantState>();
  const subscriptions = new Map<WebSocket, number[]>();
  let rejected = 0;
  let subscribed = 0;

  const stateOf = (
    entityId: string,
    state: string,
    attributes: Record<string, unknown>,
    previous?: HomeAssistantState,
  ) => {
    const now = new Date().toISOString().replace('Z', '+00:00');
    return {
      entity_id: entityId,
      state,
      attributes,
      last_changed: previous && previous.state === state ? previous.last_changed : now,
      last_updated: now,
      context: { id: randomUUID().replace(/-/g, '').toUpperCase(), parent_id: null, user_id: null },
    } satisfies HomeAssistantState;
  };
  for (const s of options.states ?? [])
    states.set(s.entity_id, stateOf(s.entity_id, s.state, s.attributes ?? {}));

  const fire = (
    entityId: string,
    oldState: HomeAssistantState | null,
    newState: HomeAssistantState | null,
  ) => {
    const context = (newState ?? oldState)!.context;
    for (const [socket, ids] of subscriptions) {
      for (const id of ids) {
        socket.send(
          JSON.stringify({
            id,
            type: 'event',
            event: {
              event_type: 'state_changed',
              data: { entity_id: entityId, old_state: oldState, new_state: newState },
              origin: 'LOCAL',
              time_fired: new Date().toISOString().replace('Z', '+00:00'),
              context,
            },
          }),
        );
      }
    }
  };

  const http: Server = createServer((request, response) => {
    if (request.headers.authorization !== `Bearer ${options.token}`) {
      rejected++;
      response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('401: Unauthorized');
      return;
    }
    if (request.method === 'GET' && request.url === '/api/states') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify([...states.values()]));
      return;
    }
    if (request.method === 'GET' && request.url === '/api/') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'API running.' }));
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('404: Not Found');
  });

  const wss = new WebSocketServer({ server: http, path: '/api/websocket' });
  wss.on('connection', (socket) => {
    let authenticated = false;
    socket.send(JSON.stringify({ type: 'auth_required', ha_version: HA_VERSION }));
    socket.on('close', () => subscriptions.delete(socket));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as {
        type?: string;
        id?: number;
        access_token?: string;
        event_type?: string;
      };
      if (!authenticated) {
        if (message.type === 'auth' && message.access_token === options.token) {
          authenticated = true;
          socket.send(JSON.stringify({ type: 'auth_ok', ha_version: HA_VERSION }));
        } else {
          rejected++;
          socket.send(JSON.stringify({ type: 'auth_invalid', message: 'Invalid access token or password' }));
          socket.close();
        }
        return;
      }
      if (message.type === 'subscribe_events' && message.event_type === 'state_changed') {
        subscriptions.set(socket, [...(subscriptions.get(socket) ?? []), message.id!]);
        subscribed++;
        socket.send(JSON.stringify({ id: message.id, type: 'result', success: true, result: null }));
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ id: message.id, type: 'pong' }));
      } else {
        socket.send(
          JSON.stringify({
            id: message.id,
            type: 'result',
            success: false,
            error: { code: 'unknown_command', message: 'Unknown command.' },
          }),
        );
      }
    });
  });

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setState(entityId, state, attributes) {
      const previous = states.get(entityId);
      const next = stateOf(entityId, state, attributes ?? previous?.attributes ?? {}, previous);
      states.set(entityId, next);
      fire(entityId, previous ?? null, next);
      return next;
    },
    removeEntity(entityId) {
      const previous = states.get(entityId);
      if (!previous) return;
      states.delete(entityId);
      fire(entityId, previous, null);
    },
    dropConnections() {
      for (const socket of wss.clients) socket.terminate();
    },
    subscriptionsMade: () => subscribed,
    rejectedAuth: () => rejected,
    async stop() {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      http.closeAllConnections();
      http.close();
      await once(http, 'close');
    },
  };
}
