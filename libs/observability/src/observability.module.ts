import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HealthRegistry } from './health.registry.js';
import { LOGGER } from './logger.constant.js';
import { createLogger, type Logger } from './logger.js';
import { ObservabilityController } from './observability.controller.js';

/**
 * /health, /metrics and the process's root logger (`LOGGER`). `forRoot(logger)` shares the logger the
 * process already made; the bare module makes one at the configured level.
 */
@Global()
@Module({
  controllers: [ObservabilityController],
  providers: [HealthRegistry, { provide: LOGGER, useFactory: () => createLogger('sentio') }],
  exports: [HealthRegistry, LOGGER],
})
export class ObservabilityModule {
  static forRoot(logger: Logger): DynamicModule {
    // Dynamic providers come after the decorator's, so this LOGGER replaces the default one.
    return { module: ObservabilityModule, providers: [{ provide: LOGGER, useValue: logger }] };
  }
}
