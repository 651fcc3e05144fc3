import { Inject, Injectable } from '@nestjs/common';
import { ClickHouseStore } from '@sentio/clickhouse';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';

interface Entry {
  answer: Promise<unknown>;
  /** Until when a settled answer is served again; Infinity while it is still running. */
  expiresAt: number;
  /** A fresh answer is being fetched while this one, expired, is still served. */
  refreshing?: boolean;
}

/**
 * The API's reads of ClickHouse pass through here, for three reasons:
 * - identical questions in flight share one query, and an answer is served again for `ttlMs` (dashboards
 *   repeat themselves: fifty consoles on the fleet page ask the same thing every few seconds);
 * - the key holds the caller's role next to the normalised question, so an answer computed for one role is
 *   never served to another (reads show the same data to every role today; a role-scoped read stays safe);
 * - at most `maxConcurrentReads` reads are in the engine at once. The embedded engine runs one statement at a
 *   time and chdb queues every parameterised statement of the process in one chain, so without a bound fifty
 *   clients put fifty reads ahead of the sink's next write; with it, the rest wait here, behind no write.
 * An expired answer is still served for up to `staleMs` more while one fresh read replaces it (stale while
 * revalidate): a console refreshing gets the previous answer at once instead of waiting behind the engine.
 * Failures are not kept: the next caller asks again.
 */
@Injectable()
export class ReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly staleMs: number;
  private readonly maxEntries: number;
  private readonly maxConcurrent: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    @Inject(QUERY_API_CONFIG) config: QueryApiConfig,
    @Inject(ClickHouseStore) store: Pick<ClickHouseStore, 'mode'>,
  ) {
    this.ttlMs = config.cache.ttlMs;
    this.staleMs = config.cache.ttlMs === 0 ? 0 : config.cache.staleMs;
    this.maxEntries = config.cache.maxEntries;
    this.maxConcurrent = config.cache.maxConcurrentReads ?? (store.mode === 'embedded' ? 2 : 16);
  }

  /**
   * The answer to `question` (a JSON-able value holding everything the answer depends on) for this caller:
   * shared with identical calls in flight, kept `ttlMs` after it arrives. Without a caller the read is not
   * shared (nothing says whose it would be), only bounded.
   */
  read<T>(caller: AuthenticatedUser | undefined, question: unknown, run: () => Promise<T>): Promise<T> {
    if (caller === undefined) return this.bounded(run);
    const key = `${caller.role}\u0000${JSON.stringify(question)}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return hit.answer as Promise<T>;
    if (hit && hit.expiresAt + this.staleMs > now) {
      if (!hit.refreshing) this.refresh(key, hit, run);
      return hit.answer as Promise<T>;
    }
    if (hit) this.entries.delete(key);
    return this.fetch(key, run);
  }

  private fetch<T>(key: string, run: () => Promise<T>): Promise<T> {
    const entry: Entry = { answer: this.bounded(run), expiresAt: Number.POSITIVE_INFINITY };
    this.entries.set(key, entry);
    entry.answer.then(
      () => {
        if (this.ttlMs === 0) this.forget(key, entry);
        else entry.expiresAt = Date.now() + this.ttlMs;
      },
      () => this.forget(key, entry),
    );
    // Maps iterate in insertion order: the first keys are the oldest answers.
    for (const old of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(old);
    }
    return entry.answer as Promise<T>;
  }

  /** Replaces an expired answer once the fresh one arrives; until then (or if it fails) the old one serves. */
  private refresh<T>(key: string, stale: Entry, run: () => Promise<T>): void {
    stale.refreshing = true;
    this.bounded(run).then(
      (value) => {
        if (this.entries.get(key) !== stale) return;
        this.entries.delete(key);
        this.entries.set(key, { answer: Promise.resolve(value), expiresAt: Date.now() + this.ttlMs });
      },
      () => (stale.refreshing = false),
    );
  }

  /** Answers kept or in flight (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private forget(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }

  private async bounded<T>(run: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    try {
      return await run();
    } finally {
      // The slot passes straight to the next waiter, so `running` never undercounts.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/**
 * A range that ends within `ttlMs` of now is "up to now": its key is its span, not its ends, so consoles
 * asking for "the last hour" a few milliseconds apart share one answer (as fresh as the TTL allows). A range
 * that ends in the past keys on its exact ends: its answer must not lose its last seconds to a neighbour's.
 */
export function rangeKey(
  range: { fromMs: number; toMs: number },
  ttlMs: number,
  nowMs = Date.now(),
): { live: number } | { fromMs: number; toMs: number } {
  return Math.abs(nowMs - range.toMs) <= ttlMs
    ? { live: Math.round((range.toMs - range.fromMs) / 1000) }
    : { fromMs: range.fromMs, toMs: range.toMs };
}
