import { Global, Module } from '@nestjs/common';
import { HealthRegistry } from './health.registry.js';
import { ObservabilityController } from './observability.controller.js';

@Global()
@Module({
  controllers: [ObservabilityController],
  providers: [HealthRegistry],
  exports: [HealthRegistry],
})
export class ObservabilityModule {}
