import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AvroConfig } from './avro.config.js';
import { AvroSerde } from './avro-serde.js';

@Global()
@Module({})
export class AvroModule {
  static forRoot(config: AvroConfig): DynamicModule {
    return {
      module: AvroModule,
      providers: [{ provide: AvroSerde, useFactory: () => AvroSerde.forUrl(config.registryUrl) }],
      exports: [AvroSerde],
    };
  }
}
