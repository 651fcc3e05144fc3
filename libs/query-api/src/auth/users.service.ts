import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type OnModuleInit,
} from '@nestjs/common';
import type { Logger } from '@sentio/observability';
import { AuditService, LOGIN_ACTIONS } from '../audit/audit.service.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER } from '../query-api.tokens.js';
import { ApiUsersRepository } from '@sentio/clickhouse';
import { USERNAME_PATTERN, type AuthStatusDto, type UserDto } from './auth.dto.js';
import { LoginThrottle } from './login-throttle.service.js';
import { MIN_PASSWORD_LENGTH, PasswordService } from './password.service.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import type { Role } from '../common/role.type.js';

@Injectable()
export class UsersService implements OnModuleInit {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(QUERY_API_LOGGER) private readonly logger: Logger,
    @Inject(ApiUsersRepository) private readonly users: ApiUsersRepository,
    @Inject(PasswordService) private readonly passwords: PasswordService,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /** The first admin comes from the environment, and only into an empty table: there is no default account. */
  async onModuleInit(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const { adminUser, adminPassword } = this.config;
    if (!adminUser || !adminPassword) {
      this.logger.warn(
        'query-api: no users yet; set SENTIO_ADMIN_USER and SENTIO_ADMIN_PASSWORD to create one',
      );
      return;
    }
    if (!USERNAME_PATTERN.test(adminUser) || adminPassword.length < MIN_PASSWORD_LENGTH) {
      throw new Error(
        `SENTIO_ADMIN_USER must be 3-64 lowercase letters, digits, ., _, @ or -, and SENTIO_ADMIN_PASSWORD at least ${MIN_PASSWORD_LENGTH} characters`,
      );
    }
    await this.create(adminUser, adminPassword, 'admin', 'system', 'local');
    this.logger.info({ username: adminUser }, 'query-api: first admin created');
  }

  async create(
    username: string,
    password: string,
    role: Role,
    actor: AuthenticatedUser | 'system',
    ip: string,
  ): Promise<UserDto> {
    if (await this.users.find(username)) throw new ConflictException(`user ${username} exists`);
    const passwordHash = await this.passwords.hash(password);
    await this.users.save({ username, passwordHash, role, tokenVersion: 0, disabled: false });
    await this.audit.record(actor, 'user.create', username, { role }, ip);
    return { username, role, disabled: false };
  }

  /**
   * An admin changes another user's role, enables or disables them, or sets a new password. A disabled user
   * or a new password ends their sessions at once (the token version moves on); a role change applies to
   * the next request, since every request reads the role afresh. The last enabled admin cannot be demoted
   * or disabled: nobody could administer the plant afterwards.
   */
  async update(
    username: string,
    change: { role?: Role; disabled?: boolean; password?: string },
    actor: AuthenticatedUser,
    ip: string,
  ): Promise<UserDto> {
    const user = await this.users.find(username);
    if (!user) throw new NotFoundException(`no user ${username}`);
    const role = change.role ?? user.role;
    const disabled = change.disabled ?? user.disabled;
    const losesAdmin = user.role === 'admin' && !user.disabled && (role !== 'admin' || disabled);
    if (losesAdmin) {
      const admins = (await this.users.list()).filter((u) => u.role === 'admin' && !u.disabled);
      if (admins.length <= 1) {
        throw new ConflictException(`${username} is the last admin: make another admin first`);
      }
    }
    const endsSessions = (disabled && !user.disabled) || change.password !== undefined;
    await this.users.save({
      ...user,
      role,
      disabled,
      passwordHash:
        change.password === undefined ? user.passwordHash : await this.passwords.hash(change.password),
      tokenVersion: endsSessions ? user.tokenVersion + 1 : user.tokenVersion,
    });
    const detail = {
      ...(change.role !== undefined && { role }),
      ...(change.disabled !== undefined && { disabled }),
      ...(change.password !== undefined && { password: 'reset' }),
    };
    await this.audit.record(actor, 'user.update', username, detail, ip);
    return { username, role, disabled };
  }

  async list(): Promise<UserDto[]> {
    return (await this.users.list()).map((u) => ({
      username: u.username,
      role: u.role,
      disabled: u.disabled,
    }));
  }

  /** Ends every session of the user, this one included: tokens issued before the change stop working. */
  async changePassword(username: string, current: string, next: string, ip: string): Promise<void> {
    this.throttle.check(username, ip);
    const user = await this.users.find(username);
    const actor = { username, kind: 'user' } as const;
    if (!user || !(await this.passwords.verify(user.passwordHash, current))) {
      // Counts like a failed login: a stolen access token must not become unlimited password guesses.
      this.throttle.failed(username, ip);
      await this.audit.record(actor, LOGIN_ACTIONS.failed, username, { via: 'password-change' }, ip);
      throw new UnauthorizedException('current password does not match');
    }
    const passwordHash = await this.passwords.hash(next);
    await this.users.save({ ...user, passwordHash, tokenVersion: user.tokenVersion + 1 });
    await this.audit.record(actor, 'user.password-change', username, {}, ip);
  }

  /** Whether anyone can sign in yet: a fresh install has no users until the first admin is configured. */
  async status(): Promise<AuthStatusDto> {
    const adminExists = (await this.users.list()).some((u) => u.role === 'admin' && !u.disabled);
    return adminExists
      ? { adminExists }
      : {
          adminExists,
          message:
            'No admin exists yet: start the platform with SENTIO_ADMIN_USER and SENTIO_ADMIN_PASSWORD set.',
        };
  }
}
