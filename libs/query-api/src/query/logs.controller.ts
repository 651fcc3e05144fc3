import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { LogHistogramDto, LogHistogramQueryDto, LogPageDto, LogsQueryDto } from './logs.dto.js';
import { LogsService } from './logs.service.js';

@ApiTags('logs')
@ApiBearerAuth()
@Controller('api/logs')
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class LogsController {
  constructor(@Inject(LogsService) private readonly logs: LogsService) {}

  @Get('histogram')
  @ApiOkResponse({ type: LogHistogramDto, description: 'Matching records per time bucket.' })
  histogram(
    @Query() query: LogHistogramQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<LogHistogramDto> {
    return this.logs.histogram(query, user);
  }

  @Get()
  @ApiOkResponse({ type: LogPageDto })
  search(@Query() query: LogsQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<LogPageDto> {
    return this.logs.search(query, user);
  }
}
