import { randomUUID } from 'node:crypto';
import type { ClickHouseStore } from '../clickhouse-store.js';
import { nextVersion, type ApiRole } from './api-users.repository.js';

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  role: ApiRole;
  /** SHA-256 of the key's secret part: the secret is random, so a slow hash buys nothing. */
  secretHash: string;
  createdBy: string;
  createdAtMs: number;
  revoked: boolean;
}

interface ApiKeyRow {
  key_id: string;
  name: string;
  role: ApiRole;
  secret_hash: string;
  created_by: string;
  created_at_ms: string;
  revoked: boolean;
}

const apiKeyColumns = {
  names: ['key_id', 'name', 'role', 'secret_hash', 'created_by', 'created_at', 'revoked', 'version'],
  row: (k: ApiKeyRecord & { version: number }) => [
    k.keyId,
    k.name,
    k.role,
    k.secretHash,
    k.createdBy,
    k.createdAtMs,
    k.revoked,
    k.version,
  ],
};

const SELECT = `SELECT key_id, name, toString(role) AS role, secret_hash, created_by,
                       toUnixTimestamp64Milli(created_at) AS created_at_ms, revoked`;

/** API keys of machine clients (table from migration 002); revoking rewrites the row, the newest wins. */
export class ApiKeysRepository {
  readonly table = 'api_keys';
  private version = 0;

  constructor(private readonly store: ClickHouseStore) {}

  async find(keyId: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.store.query<ApiKeyRow>(
      `${SELECT} FROM ${this.store.table(this.table)} FINAL WHERE key_id = {keyId:String}`,
      { keyId },
    );
    return row && toRecord(row);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.store.query<ApiKeyRow>(
      `${SELECT} FROM ${this.store.table(this.table)} FINAL ORDER BY created_at, key_id`,
    );
    return rows.map(toRecord);
  }

  async save(key: ApiKeyRecord): Promise<void> {
    this.version = nextVersion(this.version);
    await this.store.insert(
      this.table,
      apiKeyColumns,
      [{ ...key, version: this.version }],
      `api-key-${randomUUID()}`,
    );
  }
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    keyId: row.key_id,
    name: row.name,
    role: row.role,
    secretHash: row.secret_hash,
    createdBy: row.created_by,
    createdAtMs: Number(row.created_at_ms),
    revoked: Boolean(row.revoked),
  };
}
