import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/roles.decorator.js';
import { SystemStatusDto } from './system-status.dto.js';
import { SystemStatusService } from './system-status.service.js';

@ApiTags('system')
@ApiBearerAuth()
@Controller('api/system')
@Roles('operator')
export class SystemStatusController {
  constructor(@Inject(SystemStatusService) private readonly system: SystemStatusService) {}

  @Get('status')
  @ApiOkResponse({ type: SystemStatusDto })
  status(): Promise<SystemStatusDto> {
    return this.system.status();
  }
}
