import { Args, Query, Resolver } from '@nestjs/graphql';
import { Inject, UsePipes } from '@nestjs/common';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { DevicePageDto, DevicesQueryDto } from './devices.dto.js';
import { DevicesService } from './devices.service.js';
import { LogHistogramDto, LogHistogramQueryDto, LogPageDto, LogsQueryDto } from './logs.dto.js';
import { LogsService } from './logs.service.js';
import { LatestQueryDto, LatestValueDto, SeriesDto, SeriesQueryDto } from './metrics.dto.js';
import { MetricsService } from './metrics.service.js';
import {
  AnomaliesQueryDto,
  AnomalyDto,
  DetectionRangeDto,
  DeviceAnomalyScoreDto,
  ForecastDto,
  ForecastsAtRiskQueryDto,
  ForecastsQueryDto,
} from './detections.dto.js';
import { DetectionsService } from './detections.service.js';
import { DeadLetterPageDto, DeadLettersQueryDto } from './dead-letters.dto.js';
import { DeadLettersService } from './dead-letters.service.js';
import { SystemStatusDto } from './system-status.dto.js';
import { SystemStatusService } from './system-status.service.js';
import { SpanDto, SpansQueryDto, TraceQueryDto } from './traces.dto.js';
import { TracesService } from './traces.service.js';

/** The REST reads as GraphQL queries: same arguments, same validation, same services. */
@Resolver()
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class QueryResolver {
  constructor(
    @Inject(DevicesService) private readonly devicesService: DevicesService,
    @Inject(MetricsService) private readonly metricsService: MetricsService,
    @Inject(LogsService) private readonly logsService: LogsService,
    @Inject(TracesService) private readonly tracesService: TracesService,
    @Inject(DetectionsService) private readonly detectionsService: DetectionsService,
    @Inject(SystemStatusService) private readonly systemService: SystemStatusService,
    @Inject(DeadLettersService) private readonly deadLettersService: DeadLettersService,
  ) {}

  @Query(() => DevicePageDto)
  devices(@Args() args: DevicesQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<DevicePageDto> {
    return this.devicesService.list(args, user);
  }

  @Query(() => SeriesDto)
  metricSeries(@Args() args: SeriesQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<SeriesDto> {
    return this.metricsService.series(args, user);
  }

  @Query(() => [LatestValueDto])
  latest(@Args() args: LatestQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<LatestValueDto[]> {
    return this.metricsService.latest(args, user);
  }

  @Query(() => LogPageDto)
  logs(@Args() args: LogsQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<LogPageDto> {
    return this.logsService.search(args, user);
  }

  @Query(() => LogHistogramDto, { description: 'Matching log records per time bucket.' })
  logHistogram(
    @Args() args: LogHistogramQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<LogHistogramDto> {
    return this.logsService.histogram(args, user);
  }

  @Query(() => [SpanDto], { description: 'Every span of one trace, in start order.' })
  trace(@Args() args: TraceQueryDto): Promise<SpanDto[]> {
    return this.tracesService.trace(args);
  }

  @Query(() => [SpanDto], { description: 'Spans matching the filter, newest first.' })
  spans(@Args() args: SpansQueryDto): Promise<SpanDto[]> {
    return this.tracesService.search(args);
  }

  @Query(() => [AnomalyDto])
  anomalies(@Args() args: AnomaliesQueryDto): Promise<AnomalyDto[]> {
    return this.detectionsService.anomalies(args);
  }

  @Query(() => [DeviceAnomalyScoreDto])
  topAnomalousDevices(@Args() args: DetectionRangeDto): Promise<DeviceAnomalyScoreDto[]> {
    return this.detectionsService.topDevices(args);
  }

  @Query(() => [ForecastDto])
  forecasts(@Args() args: ForecastsQueryDto): Promise<ForecastDto[]> {
    return this.detectionsService.forecasts(args);
  }

  @Query(() => [ForecastDto], {
    description: 'The newest forecast per device and metric at or above a risk, soonest failure first.',
  })
  forecastsAtRisk(@Args() args: ForecastsAtRiskQueryDto): Promise<ForecastDto[]> {
    return this.detectionsService.atRisk(args);
  }

  @Roles('operator')
  @Query(() => SystemStatusDto)
  systemStatus(): Promise<SystemStatusDto> {
    return this.systemService.status();
  }

  @Roles('admin')
  @Query(() => DeadLetterPageDto, { description: 'Dead letters by reason, and the most recent ones.' })
  deadLetters(@Args() args: DeadLettersQueryDto): DeadLetterPageDto {
    return this.deadLettersService.page(args);
  }
}
