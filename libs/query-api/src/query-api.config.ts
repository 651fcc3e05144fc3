import { configFields, defineConfigSection } from '@sentio/config';
import { z } from 'zod';

const DAY_S = 24 * 3600;
/** Below this an HMAC secret can be brute-forced offline from one captured token. */
export const MIN_JWT_SECRET_LENGTH = 32;

export const queryApiConfigSection = defineConfigSection(
  'queryApi',
  z
    .object({
      /** HMAC secret of access tokens; unset outside production means a random one per process. */
      jwtSecret: z.string().optional(),
      /** NODE_ENV; only `production` changes behaviour (a missing or weak secret stops start-up). */
      environment: z.string().default('development'),
      /**
       * GraphQL introspection and a public /api/docs-json (the API's shape, no data). Unset: on outside
       * production, off in production (then the OpenAPI document needs a token and introspection is refused).
       */
      introspection: configFields.flag().optional(),
      /** The refresh cookie's Secure flag; unset: set in production, and on any request that came over https. */
      cookieSecure: configFields.flag().optional(),
      /** The operator console's build (apps/web's Angular output), served at `/`. Unset: the repository's. */
      consoleDir: z.string().min(1).optional(),
      accessTokenTtlSeconds: configFields.positiveInt().default(900),
      refreshTokenTtlSeconds: configFields.positiveInt().default(7 * DAY_S),
      /** The first admin, created only while there are no users at all; there is no default password. */
      adminUser: z.string().optional(),
      adminPassword: z.string().optional(),
      login: z
        .object({
          /** Failed logins per user and IP within the window before the pair is locked out. */
          maxAttempts: configFields.positiveInt().default(5),
          windowSeconds: configFields.positiveInt().default(900),
          lockoutSeconds: configFields.positiveInt().default(900),
        })
        .default({ maxAttempts: 5, windowSeconds: 900, lockoutSeconds: 900 }),
      limits: z
        .object({
          /** Widest time range one query may cover. */
          maxRangeDays: configFields.positiveInt().default(366),
          /** Most points of one series, rows of one page. */
          maxRows: configFields.positiveInt().default(10_000),
        })
        .default({ maxRangeDays: 366, maxRows: 10_000 }),
      cache: z
        .object({
          /**
           * How long a read's answer is served again to callers of the same role asking the same normalised
           * question (dashboards repeat themselves); 0 turns caching off (identical reads in flight still share).
           */
          ttlMs: configFields.nonNegativeInt().default(2000),
          /**
           * How long past its TTL an answer is still served while one fresh read replaces it (stale while
           * revalidate): an answer is at most ttlMs + staleMs old, and usually ttlMs + one read.
           */
          staleMs: configFields.nonNegativeInt().default(10_000),
          /** Answers kept at most, oldest dropped first. */
          maxEntries: configFields.positiveInt().default(2000),
          /**
           * API reads in flight in the engine at once; the rest wait in the API, so the sink's inserts wait
           * behind at most this many. Unset: 2 with the embedded engine (it runs one statement at a time), 16
           * with a server.
           */
          maxConcurrentReads: configFields.positiveInt().optional(),
        })
        .default({ ttlMs: 2000, staleMs: 10_000, maxEntries: 2000 }),
      graphql: z
        .object({
          maxDepth: configFields.positiveInt().default(6),
          /** Most fields one operation may select, fragments expanded. */
          maxComplexity: configFields.positiveInt().default(200),
        })
        .default({ maxDepth: 6, maxComplexity: 200 }),
      live: z
        .object({
          /** Subscriptions one WebSocket connection may hold at once. */
          maxSubscriptionsPerClient: configFields.positiveInt().default(20),
          /** A device's live telemetry is sent at most once per this interval. */
          telemetryIntervalMs: configFields.positiveInt().default(1000),
          /** Each process appends a random suffix: every replica reads every event. */
          groupPrefix: z.string().min(1).default('sentio-api-live'),
        })
        .default({
          maxSubscriptionsPerClient: 20,
          telemetryIntervalMs: 1000,
          groupPrefix: 'sentio-api-live',
        }),
    })
    .superRefine((config, ctx) => {
      if (config.environment !== 'production') return;
      if (!config.jwtSecret || config.jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          path: ['jwtSecret'],
          message: `expected a secret of at least ${MIN_JWT_SECRET_LENGTH} characters when NODE_ENV=production`,
        });
      }
    })
    .transform((config) => ({
      ...config,
      introspection: config.introspection ?? config.environment !== 'production',
      cookieSecure: config.cookieSecure ?? config.environment === 'production',
    })),
  {
    jwtSecret: 'SENTIO_JWT_SECRET',
    introspection: 'QUERY_API_INTROSPECTION',
    cookieSecure: 'QUERY_API_COOKIE_SECURE',
    consoleDir: 'SENTIO_CONSOLE_DIR',
    environment: 'NODE_ENV',
    accessTokenTtlSeconds: 'QUERY_API_ACCESS_TOKEN_TTL_SECONDS',
    refreshTokenTtlSeconds: 'QUERY_API_REFRESH_TOKEN_TTL_SECONDS',
    adminUser: 'SENTIO_ADMIN_USER',
    adminPassword: 'SENTIO_ADMIN_PASSWORD',
    'login.maxAttempts': 'QUERY_API_LOGIN_MAX_ATTEMPTS',
    'login.windowSeconds': 'QUERY_API_LOGIN_WINDOW_SECONDS',
    'login.lockoutSeconds': 'QUERY_API_LOGIN_LOCKOUT_SECONDS',
    'limits.maxRangeDays': 'QUERY_API_MAX_RANGE_DAYS',
    'limits.maxRows': 'QUERY_API_MAX_ROWS',
    'graphql.maxDepth': 'QUERY_API_GRAPHQL_MAX_DEPTH',
    'graphql.maxComplexity': 'QUERY_API_GRAPHQL_MAX_COMPLEXITY',
    'cache.ttlMs': 'QUERY_API_CACHE_TTL_MS',
    'cache.staleMs': 'QUERY_API_CACHE_STALE_MS',
    'cache.maxEntries': 'QUERY_API_CACHE_MAX_ENTRIES',
    'cache.maxConcurrentReads': 'QUERY_API_MAX_CONCURRENT_READS',
    'live.maxSubscriptionsPerClient': 'QUERY_API_LIVE_MAX_SUBSCRIPTIONS',
    'live.telemetryIntervalMs': 'QUERY_API_LIVE_TELEMETRY_INTERVAL_MS',
    'live.groupPrefix': 'QUERY_API_LIVE_GROUP_PREFIX',
  },
);

export type QueryApiConfig = z.infer<typeof queryApiConfigSection.schema>;
