import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { ApiKeysRepository, type ApiKeyRecord } from '@sentio/clickhouse';
import type { ApiKeyDto, CreatedApiKeyDto } from './api-keys.dto.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { Role } from '../common/role.type.js';

/** Keys read `sk_<key id>.<secret>`: the id finds the row, the secret is compared to its hash. */
const KEY_PATTERN = /^sk_([0-9a-f-]{36})\.([\w-]{43})$/;

@Injectable()
export class ApiKeysService {
  constructor(
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  async create(name: string, role: Role, actor: AuthenticatedUser, ip: string): Promise<CreatedApiKeyDto> {
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      keyId: randomUUID(),
      name,
      role,
      secretHash: sha256(secret),
      createdBy: actor.username,
      createdAtMs: Date.now(),
      revoked: false,
    };
    await this.keys.save(record);
    await this.audit.record(actor, 'api-key.create', record.keyId, { name, role }, ip);
    return { ...toDto(record), apiKey: `sk_${record.keyId}.${secret}` };
  }

  async list(): Promise<ApiKeyDto[]> {
    return (await this.keys.list()).map(toDto);
  }

  async revoke(keyId: string, actor: AuthenticatedUser, ip: string): Promise<void> {
    const record = await this.keys.find(keyId);
    if (!record) throw new NotFoundException(`no API key ${keyId}`);
    if (!record.revoked) await this.keys.save({ ...record, revoked: true });
    await this.audit.record(actor, 'api-key.revoke', keyId, { name: record.name }, ip);
  }

  /** The client behind an `x-api-key` header, or undefined for a malformed, unknown or revoked key. */
  async authenticate(apiKey: string): Promise<AuthenticatedUser | undefined> {
    const match = KEY_PATTERN.exec(apiKey);
    if (!match) return undefined;
    const record = await this.keys.find(match[1]!);
    if (!record || record.revoked) return undefined;
    const expected = Buffer.from(record.secretHash, 'hex');
    const actual = Buffer.from(sha256(match[2]!), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return { username: record.keyId, role: record.role, kind: 'api-key' };
  }
}

function toDto(record: ApiKeyRecord): ApiKeyDto {
  return {
    keyId: record.keyId,
    name: record.name,
    role: record.role,
    createdBy: record.createdBy,
    createdAt: new Date(record.createdAtMs).toISOString(),
    revoked: record.revoked,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
