import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { ClickHouseStore } from '@sentio/clickhouse';
import type { Logger } from '@sentio/observability';
import { AuditController } from './audit/audit.controller.js';
import { AuditService } from './audit/audit.service.js';
import { AccessGuard } from './auth/access.guard.js';
import { ApiKeysController } from './auth/api-keys.controller.js';
import { ApiKeysService } from './auth/api-keys.service.js';
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
import { LiveFeed } from './live/live-feed.service.js';
import { LiveResolver } from './live/live.resolver.js';
import { SocketAuthService, SocketGate } from './live/socket-auth.service.js';
import { DetectionsController } from './query/detections.controller.js';
import { DetectionsService } from './query/detections.service.js';
import { SystemStatusController } from './query/system-status.controller.js';
import { SystemStatusService } from './query/system-status.service.js';
import { TracesController } from './query/traces.controller.js';
import { TracesService } from './query/traces.service.js';
import { DevicesController } from './query/devices.controller.js';
import { DevicesService } from './query/devices.service.js';
import { LogsController } from './query/logs.controller.js';
import { LogsService } from './query/logs.service.js';
import { MetricsController } from './query/metrics.controller.js';
import { MetricsService } from './query/metrics.service.js';
import type { QueryApiConfig } from './query-api.config.js';
import { QUERY_API_CONFIG, QUERY_API_LOGGER, QUERY_API_MODULE } from './query-api.tokens.js';
import { ApiKeysRepository } from './repositories/api-keys.repository.js';
import { AuditRepository } from './repositories/audit.repository.js';
import { DetectionsQueryRepository } from '@sentio/clickhouse';
import { DevicesQueryRepository } from '@sentio/clickhouse';
import { LogsQueryRepository } from '@sentio/clickhouse';
import { MetricsQueryRepository } from '@sentio/clickhouse';
import { RefreshTokensRepository } from './repositories/refresh-tokens.repository.js';
import { SystemQueryRepository } from '@sentio/clickhouse';
import { TracesQueryRepository } from '@sentio/clickhouse';
import { UsersRepository } from './repositories/users.repository.js';

const repositories = [
  UsersRepository,
  RefreshTokensRepository,
  ApiKeysRepository,
  AuditRepository,
  DevicesQueryRepository,
  MetricsQueryRepository,
  LogsQueryRepository,
  TracesQueryRepository,
  DetectionsQueryRepository,
  SystemQueryRepository,
];

/**
 * REST (/api/...) and GraphQL (/api/graphql, subscriptions over graphql-ws on the same path) reads of the
 * projections, behind JWT or API-key auth. Needs the global ClickHouseModule (migrated, so the tables of
 * migration 002 exist), KafkaModule and AvroModule in the same process. Installs a process-wide guard: every route of the process, this module's or
 * not, needs a token unless it is @Public (see AccessGuard for the operational exceptions).
 */
@Module({})
export class QueryApiModule {
  static forRoot(config: QueryApiConfig, logger: Logger): DynamicModule {
    const log = logger.child({ component: 'query-api' });
    // Outside production a missing secret is allowed for convenience: tokens then die with the process.
    const secret = config.jwtSecret ?? randomBytes(48).toString('base64url');
    if (!config.jwtSecret) log.warn('query-api: SENTIO_JWT_SECRET unset, using a per-process secret');
    const sockets = new SocketGate();
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
          context: SocketGate.context,
          subscriptions: { 'graphql-ws': { onConnect: (ctx) => sockets.onConnect(ctx as never) } },
        }),
      ],
      controllers: [
        AuthController,
        UsersController,
        ApiKeysController,
        AuditController,
        DevicesController,
        MetricsController,
        LogsController,
        TracesController,
        DetectionsController,
        SystemStatusController,
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
        { provide: SocketGate, useValue: sockets },
        ...repositories.map((repository) => ({
          provide: repository,
          inject: [ClickHouseStore],
          useFactory: (store: ClickHouseStore) => new repository(store),
        })),
        AuthService,
        UsersService,
        ApiKeysService,
        AuditService,
        JwtStrategy,
        SocketAuthService,
        DevicesService,
        MetricsService,
        LogsService,
        TracesService,
        DetectionsService,
        SystemStatusService,
        QueryResolver,
        LiveFeed,
        LiveResolver,
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
    };
  }
}
