import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { HealthRegistry, type Logger } from '@sentio/observability';
import type { ClickHouseConfig } from './clickhouse.config.js';
import { ClickHouseStore } from './clickhouse-store.js';
import { migrate } from './migrations.js';
import { ProjectionVersions } from './projection-versions.js';
import { MetricsRepository } from './repositories/metrics.repository.js';
import { LogsRepository } from './repositories/logs.repository.js';
import { SpansRepository } from './repositories/spans.repository.js';
import { DevicesRepository } from './repositories/devices.repository.js';
import { AnomaliesRepository, ForecastsRepository } from './repositories/detections.repository.js';
import { AlertsRepository } from './repositories/alerts.repository.js';
import { SinkBatchesRepository } from './repositories/sink-batches.repository.js';
import { STREAM_PROJECTIONS, streamProjections } from './stream-projections.constant.js';

const repositories = [
  MetricsRepository,
  LogsRepository,
  SpansRepository,
  DevicesRepository,
  AnomaliesRepository,
  ForecastsRepository,
  AlertsRepository,
  SinkBatchesRepository,
];

/**
 * The process's ClickHouse store, migrated before anything uses it, one repository per table family, and
 * the map from each stream to the repository that projects it (`STREAM_PROJECTIONS`).
 */
@Global()
@Module({})
export class ClickHouseModule implements OnApplicationShutdown {
  constructor(@Inject(ClickHouseStore) private readonly store: ClickHouseStore) {}

  static forRoot(config: ClickHouseConfig, logger: Logger): DynamicModule {
    return {
      module: ClickHouseModule,
      providers: [
        {
          provide: ClickHouseStore,
          inject: [HealthRegistry],
          useFactory: async (health: HealthRegistry) => {
            if (config.cluster && !config.url) {
              throw new Error(
                'CLICKHOUSE_CLUSTER needs CLICKHOUSE_URL: the embedded engine is a single node',
              );
            }
            const store = ClickHouseStore.open(config, logger);
            // With a cluster, the migrations render ON CLUSTER / Replicated / Distributed (cluster-schema.util).
            await migrate(store, logger, undefined, { cluster: config.cluster });
            // Logical table names resolve to the live version of their projection family from here on.
            await ProjectionVersions.attach(store, logger);
            health.register('clickhouse', async () => {
              const started = performance.now();
              await store.query('SELECT 1');
              return {
                state: 'up',
                detail: { mode: store.mode, pingMs: Math.round(performance.now() - started) },
              };
            });
            return store;
          },
        },
        {
          provide: ProjectionVersions,
          inject: [ClickHouseStore],
          useFactory: (store: ClickHouseStore) => store.versions,
        },
        ...repositories.map((repository) => ({
          provide: repository,
          inject: [ClickHouseStore],
          useFactory: (store: ClickHouseStore) => new repository(store),
        })),
        {
          provide: STREAM_PROJECTIONS,
          inject: [
            MetricsRepository,
            LogsRepository,
            SpansRepository,
            DevicesRepository,
            AnomaliesRepository,
            ForecastsRepository,
            AlertsRepository,
          ],
          useFactory: (
            metrics: MetricsRepository,
            logs: LogsRepository,
            spans: SpansRepository,
            devices: DevicesRepository,
            anomalies: AnomaliesRepository,
            forecasts: ForecastsRepository,
            alerts: AlertsRepository,
          ) => streamProjections({ metrics, logs, spans, devices, anomalies, forecasts, alerts }),
        },
      ],
      exports: [ClickHouseStore, ProjectionVersions, ...repositories, STREAM_PROJECTIONS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.store.versions instanceof ProjectionVersions) this.store.versions.stop();
    await this.store.close();
  }
}
