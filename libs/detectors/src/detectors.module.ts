import { Module, type DynamicModule } from '@nestjs/common';
import type { DetectorsConfig } from './detectors.config.js';
import { DETECTORS_CONFIG, DetectorsService } from './runtime/detectors.service.js';

@Module({})
export class DetectorsModule {
  static forRoot(config: DetectorsConfig): DynamicModule {
    return {
      module: DetectorsModule,
      providers: [{ provide: DETECTORS_CONFIG, useValue: config }, DetectorsService],
    };
  }
}
