import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import type { Logger } from '@sentio/observability';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConsoleModule } from './console/console.module.js';
import { apolloPlugins } from './graphql/apollo-plugins.js';
import { formatGraphQLError } from './graphql/graphql-errors.js';
import { queryLimitsRule } from './graphql/query-limits.rule.js';
import { LiveModule } from './live/live.module.js';
import { SocketGate } from './live/socket-auth.service.js';
import { OpenApiController } from './openapi.controller.js';
import type { QueryApiConfig } from './query-api.config.js';
import { JWT_SECRET, QUERY_API_CONFIG, QUERY_API_LOGGER } from './query-api.tokens.js';
import { QueryModule } from './query/query.module.js';

/**
 * The `api` target: REST (/api/...) and GraphQL (/api/graphql, subscriptions over graphql-ws on the same path)
 * over the projections, behind JWT or API-key auth, and the operator console at `/`. It is the union of its
 * feature modules (auth, audit, query, live, console); this module holds only what they share: the config,
 * the logger, the signing secret, and the GraphQL server. Needs the global ClickHouseModule (migrated, so the
 * tables of migration 002 exist), KafkaModule and AvroModule in the same process.
 */
@Module({})
export class QueryApiModule {
  static forRoot(config: QueryApiConfig, logger: Logger): DynamicModule {
    const log = logger.child({ component: 'query-api' });
    // Outside production a missing secret is allowed for convenience: access tokens then die with the
    // process (refresh tokens live in ClickHouse and survive it; see the README).
    const secret = config.jwtSecret ?? randomBytes(48).toString('base64url');
    if (!config.jwtSecret) log.warn('query-api: SENTIO_JWT_SECRET unset, using a per-process secret');
    const sockets = new SocketGate();
    const shared = [
      { provide: QUERY_API_CONFIG, useValue: config },
      { provide: QUERY_API_LOGGER, useValue: log },
      { provide: JWT_SECRET, useValue: secret },
      { provide: SocketGate, useValue: sockets },
    ];
    return {
      module: QueryApiModule,
      // The feature modules read the shared providers without importing this module back.
      global: true,
      imports: [
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: '/api/graphql',
          autoSchemaFile: true,
          sortSchema: true,
          graphiql: false,
          introspection: config.introspection,
          includeStacktraceInErrorResponses: false,
          formatError: formatGraphQLError,
          validationRules: [queryLimitsRule(config.graphql)],
          plugins: apolloPlugins(),
          context: SocketGate.context,
          subscriptions: { 'graphql-ws': { onConnect: (ctx) => sockets.onConnect(ctx as never) } },
        }),
        AuditModule,
        AuthModule,
        QueryModule,
        LiveModule,
        ConsoleModule,
      ],
      controllers: [OpenApiController],
      providers: shared,
      exports: shared.map((p) => p.provide),
    };
  }
}
