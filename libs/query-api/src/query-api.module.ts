import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ClickHouseStore } from '@sentio/clickhouse';
import type { Logger } from '@sentio/observability';
import { AccessGuard } from './auth/access.guard.js';
import { AuthController } from './auth/auth.controller.js';
import { AuthService } from './auth/auth.service.js';
import { JWT_SECRET, JwtStrategy } from './auth/jwt.strategy.js';
import { LoginThrottle } from './auth/login-throttle.service.js';
import { PasswordService } from './auth/password.service.js';
import { UsersController } from './auth/users.controller.js';
import { UsersService } from './auth/users.service.js';
import { OpenApiController } from './common/openapi.controller.js';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { formatGraphQLError } from './graphql/graphql-errors.js';
import { queryLimitsRule } from './graphql/query-limits.rule.js';
import { QueryResolver } from './graphql/query.resolver.js';
import { DevicesController } from './query/devices.controller.js';
import { DevicesService } from './query/devices.service.js';
import { LogsController } from './query/logs.controller.js';
import { LogsService } from './query/logs.service.js';
import { MetricsController } from './query/metrics.controller.js';
import { MetricsService } from './query/metrics.service.js';
import type { QueryApiConfig } from './query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER, QUERY_API_MODULE } from './query-api.tokens.js';
import { DevicesQueryRepository } from './repositories/devices-query.repository.js';
import { LogsQueryRepository } from './repositories/logs-query.repository.js';
import { MetricsQueryRepository } from './repositories/metrics-query.repository.js';
import { RefreshTokensRepository } from './repositories/refresh-tokens.repository.js';
import { UsersRepository } from './repositories/users.repository.js';

/**
 * REST (/api/...) and GraphQL (/api/graphql) reads of the projections, behind JWT auth. Needs ClickHouseModule
 * (global) in the same process. Installs a process-wide guard: every route of the process, this module's or
 * not, needs a token unless it is @Public (see AccessGuard for the operational exceptions).
 */
@Module({})
export class QueryApiModule {
  static forRoot(config: QueryApiConfig, logger: Logger): DynamicModule {
    const log = logger.child({ component: 'query-api' });
    // Outside production a missing secret is allowed for convenience: tokens then die with the process.
    const secret = config.jwtSecret ?? randomBytes(48).toString('base64url');
    if (!config.jwtSecret) log.warn('query-api: SENTIO_JWT_SECRET unset, using a per-process secret');
    return {
      module: QueryApiModule,
      imports: [
        PassportModule,
        JwtModule.register({ secret, signOptions: { algorithm: 'HS256' } }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/api/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          graphiql: false,
          introspection: config.environment !== 'production',
          includeStacktraceInErrorResponses: false,
          formatError: formatGraphQLError,
          validationRules: [queryLimitsRule(config.graphql)],
        }),
      ],
      controllers: [
        AuthController,
        UsersController,
        DevicesController,
        MetricsController,
        LogsController,
        OpenApiController,
      ],
      providers: [
        { provide: QUERY_API_CONFIG, useValue: config },
        { provide: QUERY_API_LOGGER, useValue: log },
        { provide: QUERY_API_MODULE, useValue: QueryApiModule },
        { provide: JWT_SECRET, useValue: secret },
        {
          provide: LoginThrottle,
          useValue: new LoginThrottle({
            maxAttempts: config.login.maxAttempts,
            windowMs: config.login.windowSeconds * 1000,
            lockoutMs: config.login.lockoutSeconds * 1000,
          }),
        },
        { provide: PasswordService, useFactory: () => PasswordService.create() },
        {
          provide: UsersRepository,
          inject: [ClickHouseStore],
          useFactory: async (store: ClickHouseStore) => {
            const repository = new UsersRepository(store);
            await repository.ensureTable();
            return repository;
          },
        },
        {
          provide: RefreshTokensRepository,
          inject: [ClickHouseStore],
          useFactory: async (store: ClickHouseStore) => {
            const repository = new RefreshTokensRepository(store);
            await repository.ensureTable();
            return repository;
          },
        },
        ...[DevicesQueryRepository, MetricsQueryRepository, LogsQueryRepository].map((repository) => ({
          provide: repository,
          inject: [ClickHouseStore],
          useFactory: (store: ClickHouseStore) => new repository(store),
        })),
        AuthService,
        UsersService,
        JwtStrategy,
        DevicesService,
        MetricsService,
        LogsService,
        QueryResolver,
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
    };
  }
}
