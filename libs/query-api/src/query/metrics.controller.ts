import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { LatestQueryDto, LatestValueDto, SeriesDto, SeriesQueryDto } from './metrics.dto.js';
import { MetricsService } from './metrics.service.js';

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('api/metrics')
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class MetricsController {
  constructor(@Inject(MetricsService) private readonly metrics: MetricsService) {}

  @Get('series')
  @ApiOkResponse({ type: SeriesDto })
  series(@Query() query: SeriesQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<SeriesDto> {
    return this.metrics.series(query, user);
  }

  @Get('latest')
  @ApiOkResponse({ type: [LatestValueDto] })
  latest(@Query() query: LatestQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<LatestValueDto[]> {
    return this.metrics.latest(query, user);
  }
}
