import { Injectable, computed, signal } from '@angular/core';
import { refreshDelayMs } from './refresh-schedule.util';
import { isRole, roleAtLeast, type Role } from './roles.util';
import type { Session, TokenResponse } from './session.type';

export class AuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The session: the access token is kept in memory only; the refresh token is an httpOnly cookie set and
 * rotated by the API (`/api/auth/refresh`), so a reload restores the session without any token in storage.
 */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private accessToken: string | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<boolean> | undefined;
  private readonly sessionState = signal<Session | null>(null);

  readonly session = this.sessionState.asReadonly();
  readonly signedIn = computed(() => this.sessionState() !== null);
  readonly role = computed(() => this.sessionState()?.role);

  token(): string | undefined {
    return this.accessToken;
  }

  can(needed: Role): boolean {
    return roleAtLeast(this.role(), needed);
  }

  async signIn(username: string, password: string): Promise<void> {
    const res = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new AuthError(await errorMessage(res), res.status);
    this.accept((await res.json()) as TokenResponse, username);
  }

  /** Restores or extends the session from the refresh cookie; false when there is none (or it was revoked). */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  async signOut(): Promise<void> {
    this.clear();
    await fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
  }

  /** Whether the API has an admin yet; a fresh platform has none until SENTIO_ADMIN_USER is set. */
  async adminStatus(): Promise<{ adminExists: boolean; message?: string }> {
    try {
      const res = await fetch('/api/auth/status');
      if (res.ok) return (await res.json()) as { adminExists: boolean; message?: string };
    } catch {
      // unreachable API: the sign-in form reports it when used
    }
    return { adminExists: true };
  }

  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const res = await fetch('/api/auth/password', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.accessToken ?? ''}` },
      body: JSON.stringify({ currentPassword, newPassword }),
    });
    if (!res.ok) throw new AuthError(await errorMessage(res), res.status);
    // The server ended every session of the user, this one included.
    this.clear();
  }

  private async doRefresh(): Promise<boolean> {
    try {
      const res = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: '{}',
      });
      if (!res.ok) {
        this.clear();
        return false;
      }
      this.accept((await res.json()) as TokenResponse, this.sessionState()?.username);
      return true;
    } catch {
      return false;
    }
  }

  private accept(body: TokenResponse, fallbackName: string | undefined): void {
    if (!isRole(body.role)) throw new AuthError(`unexpected role ${String(body.role)}`, 500);
    this.accessToken = body.accessToken;
    this.sessionState.set({ username: body.username ?? fallbackName ?? 'unknown', role: body.role });
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), refreshDelayMs(body.expiresIn));
  }

  private clear(): void {
    clearTimeout(this.refreshTimer);
    this.accessToken = undefined;
    this.sessionState.set(null);
  }
}

export async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { message?: string | string[] };
    const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return message ?? `${res.status} ${res.statusText}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}
