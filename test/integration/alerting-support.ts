import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type AlertEvent } from '@sentio/events';
import type { Sandbox } from './support/backbone.js';

/** Shared by the alerting integration tests. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** An alert event on the alerts topic, with where it is stored. */
export interface AlertRecord {
  event: AlertEvent;
  partition: number;
  offset: string;
}

/**
 * Every record on the sandbox's alerts topic, read committed (what the projections see), each once: a
 * record the reading consumer was handed again (a batch re-fetched after a rejoin) is the reader's repeat,
 * not the topic's, so it is counted once by its partition and offset. The same event stored twice (two
 * offsets) is kept twice.
 */
export async function alertRecords(box: Sandbox): Promise<AlertRecord[]> {
  const serde = AvroSerde.forUrl(process.env['SCHEMA_REGISTRY_URL']!);
  const codec = await EventCodec.register(serde, eventStreams.alerts, box.topics.alerts);
  const admin = box.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(box.topics.alerts);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high), 0);
  const out = new Map<string, AlertRecord>();
  if (total === 0) return [];
  const consumer = box.kafka.consumer({ groupId: `read-${Math.random()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: box.topics.alerts, fromBeginning: true });
  const remaining = new Map(ends.filter((p) => Number(p.high) > 0).map((p) => [p.partition, Number(p.high)]));
  await new Promise<void>((resolve) => {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (Number(payload.lastOffset) + 1 >= (remaining.get(payload.partition) ?? 0))
        remaining.delete(payload.partition);
      if (remaining.size === 0) resolve();
    });
    void consumer.run({
      eachBatch: async ({ batch }) => {
        await codec.prepare(batch.messages.map((m) => m.value));
        for (const m of batch.messages) {
          const d = codec.decode(m.value);
          if (d.ok)
            out.set(`${batch.partition}:${m.offset}`, {
              event: d.value,
              partition: batch.partition,
              offset: m.offset,
            });
        }
      },
    });
  });
  await consumer.disconnect();
  return [...out.values()].sort(
    (a, b) => a.event.timestampMs - b.event.timestampMs || a.event.sequence - b.event.sequence,
  );
}

/** Every alert event on the sandbox's alerts topic, read committed, in event time. */
export async function alertEvents(box: Sandbox): Promise<AlertEvent[]> {
  return (await alertRecords(box)).map((r) => r.event);
}

/** A signed-in client of the platform's HTTP API (REST), as an operator or viewer would call it. */
export class ApiClient {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static async login(baseUrl: string, username: string, password: string): Promise<ApiClient> {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`login as ${username}: ${res.status} ${await res.text()}`);
    return new ApiClient(baseUrl, ((await res.json()) as { accessToken: string }).accessToken);
  }

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async get<T>(path: string): Promise<T> {
    const { status, body } = await this.call<T>('GET', path);
    if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
    return body;
  }
}

/** The Alertmanager webhook payload (version 4), as a receiver gets it. */
export interface WebhookBody {
  version: string;
  status: string;
  groupKey: string;
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: Array<{
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    fingerprint: string;
    startsAt: string;
    endsAt: string;
  }>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
