import { Module, type DynamicModule } from '@nestjs/common';
import type { OtlpConfig } from './otlp.config.js';
import { OTLP_CONFIG, OtlpReceiver } from './otlp-receiver.service.js';

/** The OTLP/HTTP receiver, publishing through the process's Kafka producer and schema registry. */
@Module({})
export class OtlpModule {
  static forRoot(config: OtlpConfig): DynamicModule {
    return {
      module: OtlpModule,
      providers: [{ provide: OTLP_CONFIG, useValue: config }, OtlpReceiver],
      exports: [OtlpReceiver],
    };
  }
}
