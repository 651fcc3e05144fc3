import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { AuditEventDto, AuditQueryDto } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/audit')
@Roles('admin')
@UsePipes(apiValidationPipe)
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get()
  @ApiOkResponse({ type: [AuditEventDto] })
  list(@Query() query: AuditQueryDto): Promise<AuditEventDto[]> {
    return this.audit.list(query);
  }
}
