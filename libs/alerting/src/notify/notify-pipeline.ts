import { createHash } from 'node:crypto';
import type { Logger } from '@sentio/observability';
import type { DeliveryRecorder, NotificationLogEntry, NotificationLogStore } from './notification-log.js';
import type { DispatchedAlert, Notifier, NotifyResult } from './notification.type.js';

export interface Integration {
  /** `<receiver>/<type>[<index>]`, stable across config reloads. */
  name: string;
  notifier: Notifier;
  sendResolved: boolean;
}

export interface Flush {
  groupKey: string;
  receiver: string;
  groupLabels: Record<string, string>;
  repeatInterval: number;
  groupInterval: number;
  /** Alerts left after muting (silences, inhibition, flapping, acknowledgement). */
  alerts: DispatchedAlert[];
}

const token = (a: DispatchedAlert) => `${a.fingerprint}:${a.seq}`;

/**
 * Alertmanager's DedupStage: whether this flush must notify, given what the log says was sent last.
 * New firing alerts, newly resolved ones (when sent), or the repeat interval passing.
 */
export function needsUpdate(
  entry: NotificationLogEntry | undefined,
  firing: string[],
  resolved: string[],
  sendResolved: boolean,
  repeatInterval: number,
  now: number,
): boolean {
  if (!entry) return firing.length > 0;
  const prevFiring = new Set(entry.firing);
  if (!firing.every((f) => prevFiring.has(f))) return true;
  if (firing.length === 0) return entry.firing.length > 0;
  const prevResolved = new Set(entry.resolved);
  if (sendResolved && !resolved.every((r) => prevResolved.has(r))) return true;
  return now - entry.sentAt >= repeatInterval;
}

export function idempotencyKey(
  integration: string,
  groupKey: string,
  firing: string[],
  resolved: string[],
  repeats: number,
): string {
  return createHash('sha256')
    .update(JSON.stringify([integration, groupKey, firing, resolved, repeats]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Per integration (fanned out concurrently, so a dead receiver delays no other): dedup against the log,
 * retry with exponential backoff until the group interval's deadline (stop early on non-recoverable
 * errors), then write the log (SetNotifies). Every attempt is recorded.
 */
export class NotifyPipeline {
  constructor(
    private readonly log: NotificationLogStore,
    private readonly deliveries: DeliveryRecorder,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    private readonly backoff = { initialMs: 500, maxMs: 30_000 },
  ) {}

  /** Deliveries under way, by `<groupKey>|<integration>`. */
  private readonly inflight = new Map<string, Promise<void>>();

  /**
   * Starts each integration's delivery, unless its previous one is still under way (that one keeps its own
   * deadline; the newer content reaches it at a later flush). Resolves once every started delivery has
   * ended or, at the latest, at 80 % of the group interval: a hanging receiver keeps trying in the
   * background but never holds the group's next flush, so it delays no other receiver.
   */
  async exec(flush: Flush, integrations: Integration[], signal: AbortSignal): Promise<void> {
    const started: Array<Promise<void>> = [];
    for (const integration of integrations) {
      const key = `${flush.groupKey}|${integration.name}`;
      if (this.inflight.has(key)) continue;
      const delivery = this.execOne(flush, integration, signal)
        .catch((error: unknown) =>
          this.logger.error(
            { err: error, integration: integration.name, groupKey: flush.groupKey },
            'notify failed',
          ),
        )
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, delivery);
      started.push(delivery);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(started),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.floor(flush.groupInterval * 0.8));
        timer.unref?.();
      }),
    ]);
    clearTimeout(timer);
  }

  /** Resolves once no delivery is under way (tests; shutdown after the abort). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight.values()]);
  }

  private async execOne(flush: Flush, integration: Integration, signal: AbortSignal): Promise<void> {
    const key = `${flush.groupKey}|${integration.name}`;
    const firingAlerts = flush.alerts.filter((a) => a.status === 'firing');
    const resolvedAlerts = flush.alerts.filter((a) => a.status === 'resolved');
    const firing = firingAlerts.map(token).sort();
    const resolved = resolvedAlerts.map(token).sort();
    const entry = this.log.get(key);
    const now = this.clock();
    if (!needsUpdate(entry, firing, resolved, integration.sendResolved, flush.repeatInterval, now)) return;
    const sameContent =
      entry !== undefined &&
      entry.firing.join() === firing.join() &&
      entry.resolved.join() === resolved.join();
    const repeats = sameContent ? entry.repeats + 1 : 0;
    const alerts = integration.sendResolved ? flush.alerts : firingAlerts;
    if (alerts.length === 0) return;
    const ikey = idempotencyKey(integration.name, flush.groupKey, firing, resolved, repeats);
    const deadline = now + Math.max(flush.groupInterval, 5_000);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadline - now);
    const abort = AbortSignal.any([signal, controller.signal]);
    let attempt = 0;
    let delay = this.backoff.initialMs;
    try {
      for (;;) {
        attempt++;
        const startedAt = this.clock();
        let result: NotifyResult;
        try {
          result = await integration.notifier.notify(
            {
              groupKey: flush.groupKey,
              receiver: flush.receiver,
              integration: integration.name,
              groupLabels: flush.groupLabels,
              repeatInterval: flush.repeatInterval,
              idempotencyKey: ikey,
              deadline,
              signal: abort,
            },
            alerts,
          );
        } catch (error) {
          result = { ok: false, recoverable: true, error: (error as Error).message };
        }
        const ended = this.clock();
        const giveUp = !result.ok && (!result.recoverable || ended + delay >= deadline || abort.aborted);
        this.deliveries.record({
          id: `${ikey}:${attempt}`,
          idempotencyKey: ikey,
          groupKey: flush.groupKey,
          receiver: flush.receiver,
          integration: integration.name,
          attempt,
          ok: result.ok,
          error: result.error ?? null,
          status: result.status ?? null,
          alerts: alerts.length,
          firing: firingAlerts.length,
          startedAt,
          durationMs: ended - startedAt,
          final: result.ok || giveUp,
        });
        if (result.ok) {
          await this.log.put({ key, firing, resolved, sentAt: ended, repeats, idempotencyKey: ikey });
          return;
        }
        if (giveUp) {
          // Final failure is explicit: logged and recorded; the next group interval tries again (no log entry).
          this.logger.warn(
            { integration: integration.name, groupKey: flush.groupKey, attempts: attempt, err: result.error },
            'notification failed',
          );
          return;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          abort.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
