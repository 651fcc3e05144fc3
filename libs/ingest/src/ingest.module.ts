import { Module, type DynamicModule } from '@nestjs/common';
import type { IngestConfig } from './ingest.config.js';
import { INGEST_CONFIG, IngestService } from './ingest.service.js';

@Module({})
export class IngestModule {
  static forRoot(config: IngestConfig): DynamicModule {
    return { module: IngestModule, providers: [{ provide: INGEST_CONFIG, useValue: config }, IngestService] };
  }
}
