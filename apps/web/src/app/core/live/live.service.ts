import { Injectable, inject, signal } from '@angular/core';
import { createClient, type Client } from 'graphql-ws';
import { AuthService } from '../auth/auth.service';
import { backoffMs } from './backoff.util';
import { SharedSubscriptions } from './shared-subscriptions.util';

export type LiveState = 'off' | 'connecting' | 'connected' | 'reconnecting' | 'error';

export interface LiveTelemetry {
  deviceId: string;
  values: Array<{ metric: string; value: number | null; unit: string; quality: string; ts: string }>;
}

export interface LiveAnomaly {
  ts: string;
  deviceId: string;
  windowStart: string;
  windowEnd: string;
  score: number;
  threshold: number;
  modelVersion: string;
  contributions: Array<{ metric: string; error: number }>;
}

export interface LiveLifecycle {
  ts: string;
  deviceId: string;
  kind: string;
  deviceType: string;
  connector: string;
  online: boolean;
}

const DOCUMENTS = {
  telemetry:
    'subscription Telemetry($device: String) { telemetry(device: $device) { deviceId values { metric value unit quality ts } } }',
  anomalies:
    'subscription Anomalies($device: String) { anomalies(device: $device) { ts deviceId windowStart windowEnd score threshold modelVersion contributions { metric error } } }',
  lifecycle:
    'subscription Lifecycle($device: String) { lifecycle(device: $device) { ts deviceId kind deviceType connector online } }',
} as const;

type Channel = keyof typeof DOCUMENTS;

/**
 * One graphql-ws socket for the whole console, opened lazily by the first live panel and closed with the
 * last; it reconnects with backoff and authenticates with the current access token on every (re)connect.
 */
@Injectable({ providedIn: 'root' })
export class LiveService {
  private readonly auth = inject(AuthService);
  private client: Client | undefined;
  private attempts = 0;
  private readonly stateSignal = signal<LiveState>('off');
  readonly state = this.stateSignal.asReadonly();

  private readonly shared = new SharedSubscriptions<unknown>((key, emit) => {
    const { channel, device } = JSON.parse(key) as { channel: Channel; device?: string };
    const client = this.connect();
    const dispose = client.subscribe<Record<string, unknown>>(
      { query: DOCUMENTS[channel], variables: device ? { device } : {} },
      {
        next: (result) => {
          const value = result.data?.[channel];
          if (value !== undefined) emit(value);
        },
        error: () => this.stateSignal.set('error'),
        complete: () => undefined,
      },
    );
    return () => {
      dispose();
      if (this.shared.size === 0) this.disconnect();
    };
  });

  telemetry(device: string | undefined, listener: (value: LiveTelemetry) => void): () => void {
    return this.shared.subscribe(
      JSON.stringify({ channel: 'telemetry', device }),
      listener as (v: unknown) => void,
    );
  }

  anomalies(device: string | undefined, listener: (value: LiveAnomaly) => void): () => void {
    return this.shared.subscribe(
      JSON.stringify({ channel: 'anomalies', device }),
      listener as (v: unknown) => void,
    );
  }

  lifecycle(device: string | undefined, listener: (value: LiveLifecycle) => void): () => void {
    return this.shared.subscribe(
      JSON.stringify({ channel: 'lifecycle', device }),
      listener as (v: unknown) => void,
    );
  }

  private connect(): Client {
    if (this.client) return this.client;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/graphql`;
    this.stateSignal.set('connecting');
    this.client = createClient({
      url,
      lazy: true,
      keepAlive: 15_000,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (retries) => {
        this.stateSignal.set('reconnecting');
        // An expired token closes the socket (4403): refresh before trying again.
        await this.auth.refresh();
        await new Promise((r) => setTimeout(r, backoffMs(retries)));
      },
      connectionParams: () => ({ authorization: `Bearer ${this.auth.token() ?? ''}` }),
      on: {
        connecting: () => this.stateSignal.set(this.attempts++ === 0 ? 'connecting' : 'reconnecting'),
        connected: () => this.stateSignal.set('connected'),
        closed: () => {
          if (this.client) this.stateSignal.set('reconnecting');
        },
      },
    });
    return this.client;
  }

  private disconnect(): void {
    const client = this.client;
    this.client = undefined;
    this.attempts = 0;
    this.stateSignal.set('off');
    void client?.dispose();
  }
}
