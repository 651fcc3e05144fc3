import { Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from '@sentio/query-api';
import type { AlertingConfig } from '../alerting.config.js';
import { ALERTING_CONFIG } from '../alerting.tokens.js';
import { AlertRulesService } from '../rules/alert-rules.service.js';
import { AlertHistoryService } from './alert-history.service.js';
import { AlertingApiService } from './alerting-api.service.js';
import { AlertingViewService } from './alerting-view.service.js';
import { AlertingController } from './alerting.controller.js';
import { AlertingResolver } from './alerting.resolver.js';

/**
 * The alerting feature of the `api` target: rules (create, change, pause, delete, preview), alerts with
 * their history (from the `alerts` table) and acknowledgement, silences, delivery attempts, over REST
 * (/api/alerting/...) and GraphQL.
 * Runs beside QueryApiModule (its guard, roles and audit trail); talks to the alerting target only through
 * Kafka topics, so the two can run in different processes.
 */
@Module({})
export class AlertingApiModule {
  static forRoot(config: AlertingConfig): DynamicModule {
    return {
      module: AlertingApiModule,
      imports: [AuditModule],
      controllers: [AlertingController],
      providers: [
        { provide: ALERTING_CONFIG, useValue: config },
        AlertRulesService,
        AlertingViewService,
        AlertHistoryService,
        AlertingApiService,
        AlertingResolver,
      ],
    };
  }
}
