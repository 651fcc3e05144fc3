import { randomUUID } from 'node:crypto';
import type { ClickHouseStore } from '../clickhouse-store.js';

/** The values of the `role` Enum8 of migration 002; the query API's roles are these. */
export const API_ROLES = ['viewer', 'operator', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiUserRecord {
  username: string;
  passwordHash: string;
  role: ApiRole;
  /** Bumped on password change and on refresh-token reuse: every token issued before is dead. */
  tokenVersion: number;
  disabled: boolean;
}

interface UserRow {
  username: string;
  password_hash: string;
  role: ApiRole;
  token_version: number;
  disabled: boolean;
}

/** Column order of inserts: the store takes rows as positional arrays. */
const userColumns = {
  names: ['username', 'password_hash', 'role', 'token_version', 'disabled', 'version'],
  row: (u: ApiUserRecord & { version: number }) => [
    u.username,
    u.passwordHash,
    u.role,
    u.tokenVersion,
    u.disabled,
    u.version,
  ],
};

/** Each write carries a version larger than any before it in this process; the newest row wins. */
export function nextVersion(last: number, nowMs = Date.now()): number {
  return Math.max(nowMs * 1000, last + 1);
}

/**
 * How long a user read stays good in this process. Every API request checks its token against the user's
 * row; at fifty requests a second that is fifty statements in an engine that runs one at a time. A change made
 * through this process is seen at once (save forgets the user); one made by another process within this.
 */
export const USER_READ_TTL_MS = 1000;

/** Users of the API (table from migration 002). Not a projection of a topic: this table is the only copy. */
export class ApiUsersRepository {
  readonly table = 'api_users';
  private version = 0;
  private readonly recent = new Map<string, { at: number; user: Promise<ApiUserRecord | undefined> }>();

  constructor(private readonly store: ClickHouseStore) {}

  /** The user, read at most USER_READ_TTL_MS ago (lookups in flight for the same name share one read). */
  find(username: string): Promise<ApiUserRecord | undefined> {
    const now = Date.now();
    const hit = this.recent.get(username);
    if (hit && now - hit.at < USER_READ_TTL_MS) return hit.user;
    const entry = { at: now, user: this.read(username) };
    this.recent.set(username, entry);
    // Failures are not kept; nor are names no longer asked for (the map holds the names of the last second).
    entry.user.catch(() => this.recent.get(username) === entry && this.recent.delete(username));
    for (const [name, e] of this.recent) if (now - e.at >= USER_READ_TTL_MS) this.recent.delete(name);
    return entry.user;
  }

  private async read(username: string): Promise<ApiUserRecord | undefined> {
    const [row] = await this.store.query<UserRow>(
      `SELECT username, password_hash, toString(role) AS role, token_version, disabled
       FROM ${this.store.table(this.table)} FINAL WHERE username = {username:String}`,
      { username },
    );
    return row && toRecord(row);
  }

  async list(): Promise<ApiUserRecord[]> {
    const rows = await this.store.query<UserRow>(
      `SELECT username, password_hash, toString(role) AS role, token_version, disabled
       FROM ${this.store.table(this.table)} FINAL ORDER BY username`,
    );
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    const [row] = await this.store.query<{ n: string }>(
      `SELECT count() AS n FROM ${this.store.table(this.table)} FINAL`,
    );
    return Number(row?.n ?? 0);
  }

  async save(user: ApiUserRecord): Promise<void> {
    this.version = nextVersion(this.version);
    this.recent.delete(user.username);
    try {
      await this.store.insert(
        this.table,
        userColumns,
        [{ ...user, version: this.version }],
        `api-user-${randomUUID()}`,
      );
    } finally {
      // A read that started while the insert ran may hold the old row.
      this.recent.delete(user.username);
    }
  }
}

function toRecord(row: UserRow): ApiUserRecord {
  return {
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role,
    tokenVersion: Number(row.token_version),
    disabled: Boolean(row.disabled),
  };
}
