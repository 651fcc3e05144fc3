/**
 * What was last notified per (group, receiver, integration): Alertmanager's nflog. Persisted (compacted
 * topic) before a flush counts as done, so a restart does not notify again what was already delivered.
 */
export interface NotificationLogEntry {
  key: string;
  /** `fingerprint:seq` of the firing and resolved alerts last notified. */
  firing: string[];
  resolved: string[];
  sentAt: number;
  /** Sends of this same content (repeat notifications), part of the idempotency key. */
  repeats: number;
  idempotencyKey: string;
}

export interface NotificationLogStore {
  get(key: string): NotificationLogEntry | undefined;
  /** Resolves once durable. */
  put(entry: NotificationLogEntry): Promise<void>;
}

export class MemoryNotificationLog implements NotificationLogStore {
  readonly entries = new Map<string, NotificationLogEntry>();
  get(key: string): NotificationLogEntry | undefined {
    return this.entries.get(key);
  }
  put(entry: NotificationLogEntry): Promise<void> {
    this.entries.set(entry.key, entry);
    return Promise.resolve();
  }
}

/** One try to deliver one notification: every attempt is recorded and queryable. */
export interface DeliveryAttempt {
  id: string;
  idempotencyKey: string;
  groupKey: string;
  receiver: string;
  integration: string;
  attempt: number;
  ok: boolean;
  error: string | null;
  status: number | null;
  alerts: number;
  firing: number;
  startedAt: number;
  durationMs: number;
  /** Last attempt of this notification (delivered, or given up: final). */
  final: boolean;
}

export interface DeliveryRecorder {
  record(attempt: DeliveryAttempt): void;
}
