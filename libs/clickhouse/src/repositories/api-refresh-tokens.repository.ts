import { randomUUID } from 'node:crypto';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { nextVersion } from './api-users.repository.js';

export interface RefreshTokenRecord {
  tokenId: string;
  username: string;
  /** SHA-256 of the token's secret part: the secret is random, so a slow hash buys nothing. */
  secretHash: string;
  /** The user's token version when issued: a bump revokes every refresh token at once. */
  tokenVersion: number;
  expiresAtMs: number;
  revoked: boolean;
}

interface RefreshTokenRow {
  token_id: string;
  username: string;
  secret_hash: string;
  token_version: number;
  expires_at_ms: string;
  revoked: boolean;
}

/** Column order of inserts: the store takes rows as positional arrays. */
const refreshTokenColumns = {
  names: ['token_id', 'username', 'secret_hash', 'token_version', 'expires_at', 'revoked', 'version'],
  row: (t: RefreshTokenRecord & { version: number }) => [
    t.tokenId,
    t.username,
    t.secretHash,
    t.tokenVersion,
    t.expiresAtMs,
    t.revoked,
    t.version,
  ],
};

/** Issued refresh tokens; a row is rewritten (revoked) when the token is used, so each works once. */
export class ApiRefreshTokensRepository {
  readonly table = 'api_refresh_tokens';
  private version = 0;

  constructor(private readonly store: ClickHouseStore) {}

  async find(tokenId: string): Promise<RefreshTokenRecord | undefined> {
    const [row] = await this.store.query<RefreshTokenRow>(
      `SELECT token_id, username, secret_hash, token_version,
              toUnixTimestamp64Milli(expires_at) AS expires_at_ms, revoked
       FROM ${this.store.table(this.table)} FINAL WHERE token_id = {tokenId:String}`,
      { tokenId },
    );
    return (
      row && {
        tokenId: row.token_id,
        username: row.username,
        secretHash: row.secret_hash,
        tokenVersion: Number(row.token_version),
        expiresAtMs: Number(row.expires_at_ms),
        revoked: Boolean(row.revoked),
      }
    );
  }

  async save(token: RefreshTokenRecord): Promise<void> {
    this.version = nextVersion(this.version);
    await this.store.insert(
      this.table,
      refreshTokenColumns,
      [{ ...token, version: this.version }],
      `api-refresh-${randomUUID()}`,
    );
  }
}
