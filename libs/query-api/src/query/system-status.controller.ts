import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { Roles } from '../common/roles.decorator.js';
import { DeadLetterPageDto, DeadLettersQueryDto } from './dead-letters.dto.js';
import { DeadLettersService } from './dead-letters.service.js';
import { SystemStatusDto } from './system-status.dto.js';
import { SystemStatusService } from './system-status.service.js';

@ApiTags('system')
@ApiBearerAuth()
@Controller('api/system')
@Roles('operator')
@UsePipes(apiValidationPipe)
export class SystemStatusController {
  constructor(
    @Inject(SystemStatusService) private readonly system: SystemStatusService,
    @Inject(DeadLettersService) private readonly deadLetters: DeadLettersService,
  ) {}

  @Get('status')
  @ApiOkResponse({ type: SystemStatusDto })
  status(): Promise<SystemStatusDto> {
    return this.system.status();
  }

  /** Admins only: a dead letter carries the start of the failed input, which may hold anything. */
  @Roles('admin')
  @Get('dead-letters')
  @ApiOkResponse({ type: DeadLetterPageDto })
  deadLetterPage(@Query() query: DeadLettersQueryDto): DeadLetterPageDto {
    return this.deadLetters.page(query);
  }
}
