import { Module, type DynamicModule } from '@nestjs/common';
import type { AlertingConfig } from './alerting.config.js';
import { ALERTING_CONFIG } from './alerting.tokens.js';
import { DispatcherService } from './dispatch/dispatcher.service.js';
import { EvaluatorService } from './evaluation/evaluator.service.js';
import { AlertRulesService } from './rules/alert-rules.service.js';

/**
 * The alerting target: rules from their topic (and YAML), streaming evaluation, notifications. Needs the
 * global KafkaModule and AvroModule; no ClickHouse.
 */
@Module({})
export class AlertingModule {
  static forRoot(config: AlertingConfig): DynamicModule {
    return {
      module: AlertingModule,
      providers: [
        { provide: ALERTING_CONFIG, useValue: config },
        AlertRulesService,
        EvaluatorService,
        DispatcherService,
      ],
      exports: [AlertRulesService, EvaluatorService, DispatcherService],
    };
  }
}
