import { Module } from '@nestjs/common';
import {
  DetectionsQueryRepository,
  DevicesQueryRepository,
  LogsQueryRepository,
  MetricsQueryRepository,
  SystemQueryRepository,
  TracesQueryRepository,
} from '@sentio/clickhouse';
import { repositoryProviders } from '../common/repository-providers.util.js';
import { DurationScalar } from '../graphql/duration.scalar.js';
import { DeadLettersService } from './dead-letters.service.js';
import { DetectionsController } from './detections.controller.js';
import { DetectionsService } from './detections.service.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';
import { LogsController } from './logs.controller.js';
import { LogsService } from './logs.service.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { QueryResolver } from './query.resolver.js';
import { ReadCache } from './read-cache.service.js';
import { SystemStatusController } from './system-status.controller.js';
import { SystemStatusService } from './system-status.service.js';
import { TracesController } from './traces.controller.js';
import { TracesService } from './traces.service.js';

/** Reads of the projections, the same services behind REST controllers and GraphQL queries. */
@Module({
  controllers: [
    DevicesController,
    MetricsController,
    LogsController,
    TracesController,
    DetectionsController,
    SystemStatusController,
  ],
  providers: [
    ReadCache,
    ...repositoryProviders(
      DevicesQueryRepository,
      MetricsQueryRepository,
      LogsQueryRepository,
      TracesQueryRepository,
      DetectionsQueryRepository,
      SystemQueryRepository,
    ),
    DevicesService,
    MetricsService,
    LogsService,
    TracesService,
    DetectionsService,
    SystemStatusService,
    DeadLettersService,
    QueryResolver,
    DurationScalar,
  ],
})
export class QueryModule {}
