import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ApiKeysRepository, ApiRefreshTokensRepository, ApiUsersRepository } from '@sentio/clickhouse';
import { AuditModule } from '../audit/audit.module.js';
import { repositoryProviders } from '../common/repository-providers.util.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { JWT_SECRET, QUERY_API_CONFIG } from '../query-api.tokens.js';
import { AccessGuard } from './access.guard.js';
import { ApiKeysController } from './api-keys.controller.js';
import { ApiKeysService } from './api-keys.service.js';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { JwtStrategy } from './jwt.strategy.js';
import { LoginThrottle } from './login-throttle.service.js';
import { PasswordService } from './password.service.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

/**
 * Users, sessions (access and refresh tokens), API keys, and the process-wide access guard: every route of
 * the process, this module's or not, needs a token unless it is @Public (see AccessGuard). Emits its
 * administrative actions and logins to the audit trail.
 */
@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [JWT_SECRET],
      useFactory: (secret: string) => ({ secret, signOptions: { algorithm: 'HS256' } }),
    }),
    AuditModule,
  ],
  controllers: [AuthController, UsersController, ApiKeysController],
  providers: [
    ...repositoryProviders(ApiUsersRepository, ApiRefreshTokensRepository, ApiKeysRepository),
    {
      provide: LoginThrottle,
      inject: [QUERY_API_CONFIG],
      useFactory: (config: QueryApiConfig) =>
        new LoginThrottle({
          maxAttempts: config.login.maxAttempts,
          windowMs: config.login.windowSeconds * 1000,
          lockoutMs: config.login.lockoutSeconds * 1000,
        }),
    },
    { provide: PasswordService, useFactory: () => PasswordService.create() },
    AuthService,
    UsersService,
    ApiKeysService,
    JwtStrategy,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [AuthService, JwtModule],
})
export class AuthModule {}
