import { Module, type DynamicModule } from '@nestjs/common';
import type { ConnectorsConfig } from './connectors.config.js';
import { CONNECTORS_CONFIG, ConnectorsService } from './connectors.service.js';

/** The configured connectors, publishing through the process's Kafka producer and schema registry. */
@Module({})
export class ConnectorsModule {
  static forRoot(config: ConnectorsConfig): DynamicModule {
    return {
      module: ConnectorsModule,
      providers: [{ provide: CONNECTORS_CONFIG, useValue: config }, ConnectorsService],
    };
  }
}
