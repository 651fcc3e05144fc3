import { HttpException, HttpStatus } from '@nestjs/common';

export interface LoginThrottleOptions {
  maxAttempts: number;
  windowMs: number;
  lockoutMs: number;
}

interface Attempts {
  failures: number;
  windowStartMs: number;
  lockedUntilMs: number;
}

/** Beyond this many tracked pairs, expired ones are swept so a spray of usernames cannot grow memory forever. */
const SWEEP_ABOVE = 10_000;

/**
 * Failed logins per user and client address: a guess-spraying client is locked out of that user for a
 * while. Counted in memory and rebuilt at start from the logins in the audit trail (`restore`), so a restart
 * does not lift a lockout. Per process (several replicas each count on their own), which bounds, not stops,
 * guessing.
 */
export class LoginThrottle {
  private readonly attempts = new Map<string, Attempts>();

  constructor(
    private readonly options: LoginThrottleOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 while the pair is locked out; checked before the password, so a lockout costs no hashing. */
  check(username: string, ip: string): void {
    const entry = this.attempts.get(key(username, ip));
    if (entry && entry.lockedUntilMs > this.now()) {
      const retryAfterS = Math.ceil((entry.lockedUntilMs - this.now()) / 1000);
      throw new HttpException(
        { statusCode: 429, message: `too many failed logins; retry in ${retryAfterS} s` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  /** How far back `restore` needs the history: a failure older than this can no longer matter. */
  get memoryMs(): number {
    return this.options.windowMs + this.options.lockoutMs;
  }

  /** Replays recorded attempts, oldest first, as they happened (the state a restart would have lost). */
  restore(attempts: Iterable<{ username: string; ip: string; ok: boolean; atMs: number }>): void {
    for (const a of attempts) {
      if (a.ok) this.succeeded(a.username, a.ip);
      else this.failed(a.username, a.ip, a.atMs);
    }
  }

  failed(username: string, ip: string, now = this.now()): void {
    if (this.attempts.size > SWEEP_ABOVE) this.sweep(now);
    const k = key(username, ip);
    let entry = this.attempts.get(k);
    if (!entry || now - entry.windowStartMs > this.options.windowMs) {
      entry = { failures: 0, windowStartMs: now, lockedUntilMs: 0 };
      this.attempts.set(k, entry);
    }
    entry.failures++;
    if (entry.failures >= this.options.maxAttempts) {
      entry.lockedUntilMs = now + this.options.lockoutMs;
      entry.failures = 0;
      entry.windowStartMs = now;
    }
  }

  succeeded(username: string, ip: string): void {
    this.attempts.delete(key(username, ip));
  }

  private sweep(now: number): void {
    for (const [k, entry] of this.attempts) {
      if (entry.lockedUntilMs <= now && now - entry.windowStartMs > this.options.windowMs) {
        this.attempts.delete(k);
      }
    }
  }
}

function key(username: string, ip: string): string {
  return `${username.toLowerCase()}\u0000${ip}`;
}
