import type { DeviceLifecycle, LifecycleKind, TelemetrySample } from '@sentio/events';
import type { HealthReport } from '@sentio/observability';
import WebSocket from 'ws';
import type { Connector, ConnectorContext, ConnectorType, RawDeadLetter } from '../connector.type.js';
import { backoffMs } from '../common/backoff.util.js';
import { homeAssistantConfigSchema, type HomeAssistantConfig } from './home-assistant.config.js';
import {
  entityFilter,
  lifecycleSignature,
  metricOf,
  parseState,
  stateLifecycle,
  stateLog,
  stateSample,
  UNAVAILABLE,
  UNKNOWN,
  validEntityId,
  type HaState,
} from './ha-states.util.js';

interface Known {
  online: boolean;
  /** What a lifecycle event carries; a change of it is an UPDATED event. */
  signature: string;
}

interface StateChanged {
  entity_id?: unknown;
  old_state?: unknown;
  new_state?: unknown;
}

/** A state_changed event with the WebSocket message it came in, kept for the DLQ. */
interface Change {
  data: StateChanged;
  raw: Buffer;
}

/** Where input not naming an entity came from. */
const WEBSOCKET_ORIGIN = 'api/websocket';

/** The token was refused: retrying helps only once someone replaces it, so health says so. */
class AuthRejected extends Error {}

/**
 * One Home Assistant instance through its documented APIs: the WebSocket API (`/api/websocket`: auth, then
 * `subscribe_events` for `state_changed`) and the REST snapshot `GET /api/states`. The subscription is made
 * before the snapshot is read, so no change falls between the two; changes that arrive meanwhile are held
 * and applied after it unless the snapshot is newer. Entities are devices: numeric measurement states
 * become telemetry, `unavailable` OFFLINE, other state changes log records.
 */
export class HomeAssistantConnector implements Connector {
  readonly name: string;
  private readonly source: string;
  private readonly token: string;
  private readonly accepts: (entityId: string) => boolean;
  private readonly known = new Map<string, Known>();
  private socket: WebSocket | undefined;
  private connected = false;
  private everConnected = false;
  private lastError: string | undefined;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private nextId = 1;
  private readonly pongs = new Set<number>();
  /** Events are handled one after another, in the order Home Assistant sent them. */
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: HomeAssistantConfig,
    private readonly context: ConnectorContext,
  ) {
    this.name = config.name;
    this.source = `home-assistant:${config.name}`;
    this.token = config.token ?? process.env[config.tokenEnv!] ?? '';
    this.accepts = entityFilter(config);
  }

  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000);
    await this.work;
  }

  health(): HealthReport {
    const detail = {
      url: this.config.url,
      entities: this.known.size,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
    if (this.connected) return { state: 'up', detail };
    return { state: this.everConnected ? 'down' : 'degraded', detail };
  }

  private endpoint(path: string, protocol?: 'ws'): URL {
    const base = this.config.url.endsWith('/') ? this.config.url : `${this.config.url}/`;
    const url = new URL(path, base);
    if (protocol) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url;
  }

  /** One connection attempt; resolves either way, a failure having scheduled the next attempt. */
  private async connect(): Promise<void> {
    if (this.stopping) return;
    if (this.attempt > 0) this.context.metrics.reconnect();
    const held: Change[] = [];
    let live: ((change: Change) => void) | undefined;
    try {
      const socket = await this.open((change) => (live ? live(change) : held.push(change)));
      const { states, rejected } = await this.fetchStates();
      // The connection may have dropped while the snapshot was read; its close has scheduled the retry.
      if (this.socket !== socket) return;
      const snapshotAt = new Map(states.map((s) => [s.entity_id, s.last_updated]));
      this.enqueue(() => this.applySnapshot(states, rejected));
      for (const change of held) {
        const next = parseState(change.data.new_state);
        const seen = next ? snapshotAt.get(next.entity_id) : undefined;
        if (next && seen !== undefined && next.last_updated <= seen) continue;
        this.enqueue(() => this.applyChange(change));
      }
      live = (change) => this.enqueue(() => this.applyChange(change));
      this.attempt = 0;
      this.connected = true;
      this.everConnected = true;
      this.lastError = undefined;
      this.keepAlive(socket);
      this.context.logger.info(
        { url: this.config.url, entities: states.length },
        'connected to Home Assistant',
      );
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private fail(error: Error): void {
    this.connected = false;
    clearInterval(this.heartbeat);
    const socket = this.socket;
    this.socket = undefined;
    socket?.terminate();
    if (this.stopping) return;
    this.lastError = error.message;
    this.context.metrics.error(error instanceof AuthRejected ? 'auth' : 'connection');
    const delay = backoffMs(this.attempt++, this.config.reconnect.initialMs, this.config.reconnect.maxMs);
    this.context.logger.warn(
      { url: this.config.url, error: error.message, retryInMs: delay },
      'Home Assistant connection failed',
    );
    this.retry = setTimeout(() => void this.connect(), delay);
  }

  /** Opens the WebSocket and completes auth and the subscription; later changes go to `onChange`. */
  private open(onChange: (change: Change) => void): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.endpoint('api/websocket', 'ws'), {
        handshakeTimeout: this.config.requestTimeoutMs,
      });
      this.socket = socket;
      const subscription = this.nextId++;
      let subscribed = false;
      const handshake = setTimeout(
        () => reject(new Error(`no subscription within ${this.config.requestTimeoutMs} ms`)),
        this.config.requestTimeoutMs,
      );
      const settle = (error?: Error) => {
        clearTimeout(handshake);
        if (error) reject(error);
        else resolve(socket);
      };
      socket.on('message', (data) => {
        let message: {
          type?: unknown;
          id?: unknown;
          success?: unknown;
          message?: unknown;
          error?: unknown;
          event?: { event_type?: unknown; data?: unknown };
        };
        const raw = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data);
        try {
          message = JSON.parse(raw.toString('utf8')) as typeof message;
        } catch (error) {
          this.context.metrics.error('protocol');
          return this.reject(WEBSOCKET_ORIGIN, null, raw, `not valid JSON: ${(error as Error).message}`);
        }
        if (message === null || typeof message !== 'object' || Array.isArray(message)) {
          this.context.metrics.error('protocol');
          return this.reject(WEBSOCKET_ORIGIN, null, raw, 'not a JSON object');
        }
        switch (message.type) {
          case 'auth_required':
            socket.send(JSON.stringify({ type: 'auth', access_token: this.token }));
            return;
          case 'auth_invalid':
            return settle(new AuthRejected(`access token rejected: ${String(message.message ?? '')}`));
          case 'auth_ok':
            socket.send(
              JSON.stringify({ id: subscription, type: 'subscribe_events', event_type: 'state_changed' }),
            );
            return;
          case 'result':
            if (message.id !== subscription || subscribed) return;
            if (message.success !== true)
              return settle(new Error(`subscribe_events failed: ${JSON.stringify(message.error ?? null)}`));
            subscribed = true;
            return settle();
          case 'pong':
            this.pongs.add(message.id as number);
            return;
          case 'event':
            if (message.id !== subscription) return;
            if (message.event === null || typeof message.event !== 'object') {
              this.context.metrics.error('protocol');
              return this.reject(WEBSOCKET_ORIGIN, null, raw, 'event message without an event object');
            }
            if (message.event.event_type !== 'state_changed') return;
            this.context.metrics.messageIn();
            if (message.event.data === null || typeof message.event.data !== 'object') {
              this.context.metrics.error('unmappable');
              return this.reject(WEBSOCKET_ORIGIN, null, raw, 'state_changed event without data');
            }
            onChange({ data: message.event.data as StateChanged, raw });
            return;
        }
      });
      socket.on('error', (error) => settle(error));
      socket.on('close', (code) => {
        if (!subscribed) return settle(new Error(`connection closed (${code}) before the subscription`));
        if (this.socket === socket) this.fail(new Error(`connection closed (${code})`));
      });
    });
  }

  /** Pings on a timer; a ping unanswered by the next tick means the connection is dead, so it is replaced. */
  private keepAlive(socket: WebSocket): void {
    let waiting: number | undefined;
    this.heartbeat = setInterval(() => {
      if (waiting !== undefined && !this.pongs.delete(waiting)) {
        if (this.socket === socket) this.fail(new Error('no pong: connection presumed dead'));
        return;
      }
      waiting = this.nextId++;
      socket.send(JSON.stringify({ id: waiting, type: 'ping' }));
    }, this.config.heartbeatMs);
  }

  private async fetchStates(): Promise<{ states: HaState[]; rejected: RawDeadLetter[] }> {
    const response = await fetch(this.endpoint('api/states'), {
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(this.config.requestTimeoutMs),
    });
    if (response.status === 401) throw new AuthRejected('access token rejected by GET /api/states (401)');
    if (!response.ok) throw new Error(`GET /api/states answered ${response.status}`);
    const body: unknown = await response.json();
    if (!Array.isArray(body)) throw new Error('GET /api/states did not answer a JSON array');
    const states: HaState[] = [];
    const rejected: RawDeadLetter[] = [];
    for (const element of body as unknown[]) {
      const state = parseState(element);
      const raw = Buffer.from(JSON.stringify(element) ?? 'null');
      if (!state) {
        const id = (element as { entity_id?: unknown } | null)?.entity_id;
        rejected.push(
          this.letter(
            typeof id === 'string' ? `api/states/${id}` : 'api/states',
            typeof id === 'string' ? id : null,
            raw,
            'GET /api/states: element is not a state (entity_id and state strings)',
          ),
        );
      } else if (!validEntityId(state.entity_id)) {
        rejected.push(this.entityIdLetter(state.entity_id, raw));
      } else if (this.accepts(state.entity_id)) {
        states.push(state);
      }
    }
    return { states, rejected };
  }

  private letter(origin: string, key: string | null, payload: Buffer, reason: string): RawDeadLetter {
    return { protocol: 'home-assistant', origin, key, payload, reason };
  }

  private entityIdLetter(entityId: string, payload: Buffer): RawDeadLetter {
    return this.letter(
      `api/states/${entityId}`,
      entityId,
      payload,
      `entity id ${JSON.stringify(entityId.slice(0, 200))} is not <domain>.<object id>`,
    );
  }

  /** Dead-letters input that names no entity (or none we can use), in turn with the events around it. */
  private reject(origin: string, key: string | null, payload: Buffer, reason: string): void {
    const letter = this.letter(origin, key, payload, reason);
    this.enqueue(() => this.context.sink.deadLetter(letter));
  }

  private async deadLetters(letters: RawDeadLetter[]): Promise<void> {
    if (letters.length > 0) this.context.metrics.error('unmappable');
    for (const letter of letters) await this.context.sink.deadLetter(letter);
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((error: unknown) => {
      this.context.metrics.error('publish');
      this.context.logger.error({ err: error }, 'Home Assistant events could not be published');
    });
  }

  private async applySnapshot(states: HaState[], rejected: RawDeadLetter[]): Promise<void> {
    const now = Date.now();
    const letters = [...rejected];
    const lifecycle: DeviceLifecycle[] = [];
    const present = new Set(states.map((s) => s.entity_id));
    for (const [entityId, known] of this.known) {
      if (present.has(entityId)) continue;
      this.known.delete(entityId);
      lifecycle.push(
        stateLifecycle(entityId, 'REMOVED', false, known.signature, now, this.source, this.config.labels),
      );
    }
    for (const state of states) {
      const event = this.track(state, now);
      if (event) lifecycle.push(event);
    }
    await this.context.sink.lifecycle(lifecycle);
    const samples = states.flatMap((s) =>
      this.samples(s, now, letters, () => Buffer.from(JSON.stringify(s))),
    );
    await this.context.sink.telemetry(samples);
    await this.deadLetters(letters);
  }

  private async applyChange({ data: change, raw }: Change): Promise<void> {
    if (typeof change.entity_id !== 'string') {
      return this.deadLetters([
        this.letter(WEBSOCKET_ORIGIN, null, raw, 'state_changed event without an entity_id string'),
      ]);
    }
    const entityId = change.entity_id;
    if (!validEntityId(entityId)) return this.deadLetters([this.entityIdLetter(entityId, raw)]);
    if (!this.accepts(entityId)) return;
    const now = Date.now();
    const next = parseState(change.new_state);
    if (!next && change.new_state !== null && change.new_state !== undefined) {
      return this.deadLetters([
        this.letter(
          `api/states/${entityId}`,
          entityId,
          raw,
          'state_changed new_state is neither null nor a state (entity_id and state strings)',
        ),
      ]);
    }
    if (next && next.entity_id !== entityId) {
      return this.deadLetters([
        this.letter(
          `api/states/${entityId}`,
          entityId,
          raw,
          `state_changed for ${entityId} carries a new_state of ${next.entity_id}`,
        ),
      ]);
    }
    if (!next) {
      const known = this.known.get(entityId);
      if (!known) return;
      this.known.delete(entityId);
      return this.context.sink.lifecycle([
        stateLifecycle(entityId, 'REMOVED', false, known.signature, now, this.source, this.config.labels),
      ]);
    }
    const event = this.track(next, now);
    if (event) await this.context.sink.lifecycle([event]);
    const letters: RawDeadLetter[] = [];
    const samples = this.samples(next, now, letters, () => raw);
    if (letters.length > 0) return this.deadLetters(letters);
    if (samples.length > 0) return this.context.sink.telemetry(samples);
    const previous = parseState(change.old_state);
    if (metricOf(next) || next.state === UNAVAILABLE || next.state === UNKNOWN) return;
    if (previous?.state === next.state) return;
    await this.context.sink.logs([stateLog(next, previous, now, this.source, this.config.labels)]);
  }

  /** Records the entity; returns DISCOVERED, ONLINE/OFFLINE or UPDATED when that is what changed. */
  private track(state: HaState, now: number): DeviceLifecycle | undefined {
    const online = state.state !== UNAVAILABLE;
    const signature = lifecycleSignature(state);
    const known = this.known.get(state.entity_id);
    this.known.set(state.entity_id, { online, signature });
    const event = (kind: LifecycleKind) =>
      stateLifecycle(state.entity_id, kind, online, signature, now, this.source, this.config.labels);
    if (!known) return event('DISCOVERED');
    if (known.online !== online) return event(online ? 'ONLINE' : 'OFFLINE');
    if (known.signature !== signature) return event('UPDATED');
    return undefined;
  }

  /** The state's sample, if it is a measurement; one that cannot be goes to `letters` with `raw()`. */
  private samples(
    state: HaState,
    now: number,
    letters: RawDeadLetter[],
    raw: () => Buffer,
  ): TelemetrySample[] {
    const sample = stateSample(state, now, this.source, this.config.labels);
    if (sample === undefined) return [];
    if (!(sample instanceof Error)) return [sample];
    letters.push(this.letter(`api/states/${state.entity_id}`, state.entity_id, raw(), sample.message));
    return [];
  }
}

export const homeAssistantConnectorType: ConnectorType<HomeAssistantConfig> = {
  type: 'home-assistant',
  configSchema: homeAssistantConfigSchema,
  create: (config, context) => new HomeAssistantConnector(config, context),
};
