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

  async exec(flush: Flush, integrations: Integration[], signal: AbortSignal): Promise<void> {
    await Promise.all(integrations.map((i) => this.execOne(flush, i, signal)));
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
