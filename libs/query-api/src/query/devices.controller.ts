import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { DevicePageDto, DevicesQueryDto } from './devices.dto.js';
import { DevicesService } from './devices.service.js';

@ApiTags('devices')
@ApiBearerAuth()
@Controller('api/devices')
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class DevicesController {
  constructor(@Inject(DevicesService) private readonly devices: DevicesService) {}

  @Get()
  @ApiOkResponse({ type: DevicePageDto })
  list(@Query() query: DevicesQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<DevicePageDto> {
    return this.devices.list(query, user);
  }
}
