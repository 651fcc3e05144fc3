import { Args, Query, Resolver } from '@nestjs/graphql';
import { Inject, UsePipes } from '@nestjs/common';
import { Roles } from '../auth/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { DevicePageDto, DevicesQueryDto } from '../query/devices.dto.js';
import { DevicesService } from '../query/devices.service.js';
import { LogPageDto, LogsQueryDto } from '../query/logs.dto.js';
import { LogsService } from '../query/logs.service.js';
import { LatestQueryDto, LatestValueDto, SeriesDto, SeriesQueryDto } from '../query/metrics.dto.js';
import { MetricsService } from '../query/metrics.service.js';

/** The REST reads as GraphQL queries: same arguments, same validation, same services. */
@Resolver()
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class QueryResolver {
  constructor(
    @Inject(DevicesService) private readonly devicesService: DevicesService,
    @Inject(MetricsService) private readonly metricsService: MetricsService,
    @Inject(LogsService) private readonly logsService: LogsService,
  ) {}

  @Query(() => DevicePageDto)
  devices(@Args() args: DevicesQueryDto): Promise<DevicePageDto> {
    return this.devicesService.list(args);
  }

  @Query(() => SeriesDto)
  metricSeries(@Args() args: SeriesQueryDto): Promise<SeriesDto> {
    return this.metricsService.series(args);
  }

  @Query(() => [LatestValueDto])
  latest(@Args() args: LatestQueryDto): Promise<LatestValueDto[]> {
    return this.metricsService.latest(args);
  }

  @Query(() => LogPageDto)
  logs(@Args() args: LogsQueryDto): Promise<LogPageDto> {
    return this.logsService.search(args);
  }
}
