import { Module, type DynamicModule } from '@nestjs/common';
import { ClickHouseStore, ReplaysRepository } from '@sentio/clickhouse';
import type { DetectorsConfig } from '@sentio/detectors';
import { BulkLoadService } from './bulk-load.service.js';
import { DetectorRescoreService } from './detector-rescore.service.js';
import { ProjectionVersionsService } from './projection-versions.service.js';
import type { ReplayConfig } from './replay.config.js';
import { ReplayController } from './replay.controller.js';
import { ReplayService } from './replay.service.js';
import { DETECTORS_SETTINGS, INGEST_GROUP_ID, REPLAY_CONFIG } from './replay.tokens.js';

/**
 * Replays of projection families (rebuild into a version, swap, roll back, drop) and their admin API.
 * Needs the global ClickHouseModule, KafkaModule and AvroModule; runs in the process that writes ClickHouse
 * (with the embedded engine, the all-in-one process), so a swap can hold live ingest's writes.
 */
@Module({})
export class ReplayModule {
  static forRoot(config: ReplayConfig, ingestGroupId: string, detectors?: DetectorsConfig): DynamicModule {
    return {
      module: ReplayModule,
      controllers: [ReplayController],
      providers: [
        { provide: REPLAY_CONFIG, useValue: config },
        { provide: INGEST_GROUP_ID, useValue: ingestGroupId },
        ...(detectors ? [{ provide: DETECTORS_SETTINGS, useValue: detectors }] : []),
        {
          provide: ReplaysRepository,
          inject: [ClickHouseStore],
          useFactory: (store: ClickHouseStore) => new ReplaysRepository(store),
        },
        BulkLoadService,
        ProjectionVersionsService,
        ReplayService,
        DetectorRescoreService,
      ],
      exports: [ReplayService, ProjectionVersionsService, DetectorRescoreService],
    };
  }
}
