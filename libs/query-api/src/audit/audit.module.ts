import { Module } from '@nestjs/common';
import { ApiAuditRepository } from '@sentio/clickhouse';
import { repositoryProviders } from '../common/repository-providers.util.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';

/**
 * The audit trail: other features record what they did through AuditService; admins read it. It depends on
 * no other feature, so the features that write to it can depend on it without a cycle.
 */
@Module({
  controllers: [AuditController],
  providers: [...repositoryProviders(ApiAuditRepository), AuditService],
  exports: [AuditService],
})
export class AuditModule {}
