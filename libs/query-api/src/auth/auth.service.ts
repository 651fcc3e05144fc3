import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException, type OnApplicationBootstrap } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Logger } from '@sentio/observability';
import { AuditService, LOGIN_ACTIONS } from '../audit/audit.service.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER } from '../query-api.tokens.js';
import { ApiRefreshTokensRepository, ApiUsersRepository, type ApiUserRecord } from '@sentio/clickhouse';
import type { TokenPairDto } from './auth.dto.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordService } from './password.service.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { Role } from '../common/role.type.js';

/** Claims of an access token. `tv` ties it to the user's token version, so a bump kills it at once. */
export interface AccessTokenClaims {
  sub: string;
  role: Role;
  tv: number;
}

const INVALID_REFRESH = 'invalid or expired refresh token';

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(QUERY_API_LOGGER) private readonly logger: Logger,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(JwtService) private readonly jwt: JwtService,
    @Inject(ApiUsersRepository) private readonly users: ApiUsersRepository,
    @Inject(ApiRefreshTokensRepository) private readonly refreshTokens: ApiRefreshTokensRepository,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
    @Inject(PasswordService) private readonly passwords: PasswordService,
  ) {}

  /** A restart must not lift a lockout: the throttle replays the recent logins of the audit trail. */
  async onApplicationBootstrap(): Promise<void> {
    const attempts = await this.audit.loginsSince(Date.now() - this.throttle.memoryMs);
    this.throttle.restore(attempts);
    if (attempts.length > 0) {
      this.logger.info(
        { attempts: attempts.length },
        'query-api: login throttle restored from the audit trail',
      );
    }
  }

  /** Every attempt is on the audit trail (failures too: they are what a lockout is rebuilt from). */
  async login(username: string, password: string, ip: string): Promise<TokenPairDto> {
    const name = username.toLowerCase();
    this.throttle.check(name, ip);
    const user = await this.users.find(name);
    const ok = await this.passwords.verify(user?.passwordHash, password);
    if (!ok || !user || user.disabled) {
      this.throttle.failed(name, ip);
      await this.audit.record({ username: name, kind: 'user' }, LOGIN_ACTIONS.failed, name, {}, ip);
      throw new UnauthorizedException('invalid username or password');
    }
    this.throttle.succeeded(name, ip);
    await this.audit.record({ username: name, kind: 'user' }, LOGIN_ACTIONS.succeeded, name, {}, ip);
    return this.issue(user);
  }

  /** Rotation: the presented token is spent and a new pair issued. A spent token presented again means it
   * leaked (or the client raced itself): every session of the user is revoked. */
  async refresh(refreshToken: string): Promise<TokenPairDto> {
    const record = await this.findRefreshToken(refreshToken);
    if (!record) throw new UnauthorizedException(INVALID_REFRESH);
    const user = await this.users.find(record.username);
    if (!user || user.disabled || user.tokenVersion !== record.tokenVersion) {
      throw new UnauthorizedException(INVALID_REFRESH);
    }
    if (record.revoked) {
      await this.revokeAll(user);
      throw new UnauthorizedException(INVALID_REFRESH);
    }
    if (record.expiresAtMs <= Date.now()) throw new UnauthorizedException(INVALID_REFRESH);
    await this.refreshTokens.save({ ...record, revoked: true });
    return this.issue(user);
  }

  /** `strict`: an unknown token is an error (a script's mistake); a browser's stale cookie is not. */
  async logout(refreshToken: string, everywhere: boolean, strict = true): Promise<void> {
    const record = await this.findRefreshToken(refreshToken);
    if (!record) {
      if (strict) throw new UnauthorizedException(INVALID_REFRESH);
      return;
    }
    if (!record.revoked) await this.refreshTokens.save({ ...record, revoked: true });
    if (everywhere) {
      const user = await this.users.find(record.username);
      if (user) await this.revokeAll(user);
    }
  }

  /** The user behind a verified access token, as of now: disabled users and revoked tokens get nothing. */
  async authenticate(claims: AccessTokenClaims): Promise<AuthenticatedUser | undefined> {
    const user = await this.users.find(claims.sub);
    if (!user || user.disabled || user.tokenVersion !== claims.tv) return undefined;
    return { username: user.username, role: user.role, kind: 'user' };
  }

  private async revokeAll(user: ApiUserRecord): Promise<void> {
    await this.users.save({ ...user, tokenVersion: user.tokenVersion + 1 });
  }

  private async issue(user: ApiUserRecord): Promise<TokenPairDto> {
    const claims: AccessTokenClaims = { sub: user.username, role: user.role, tv: user.tokenVersion };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: this.config.accessTokenTtlSeconds });
    const tokenId = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.refreshTokens.save({
      tokenId,
      username: user.username,
      secretHash: sha256(secret),
      tokenVersion: user.tokenVersion,
      expiresAtMs: Date.now() + this.config.refreshTokenTtlSeconds * 1000,
      revoked: false,
    });
    return {
      accessToken,
      refreshToken: `${tokenId}.${secret}`,
      tokenType: 'Bearer',
      expiresIn: this.config.accessTokenTtlSeconds,
      role: user.role,
      username: user.username,
    };
  }

  private async findRefreshToken(token: string) {
    const [tokenId, secret] = token.split('.');
    if (!tokenId || !secret || !/^[0-9a-f-]{36}$/.test(tokenId)) return undefined;
    const record = await this.refreshTokens.find(tokenId);
    if (!record) return undefined;
    const expected = Buffer.from(record.secretHash, 'hex');
    const actual = Buffer.from(sha256(secret), 'hex');
    return expected.length === actual.length && timingSafeEqual(expected, actual) ? record : undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
