import { Controller, Get, Inject, Query, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
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

@ApiTags('detections')
@ApiBearerAuth()
@Controller('api')
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class DetectionsController {
  constructor(@Inject(DetectionsService) private readonly detections: DetectionsService) {}

  @Get('anomalies')
  @ApiOkResponse({ type: [AnomalyDto], description: 'Newest first.' })
  anomalies(@Query() query: AnomaliesQueryDto): Promise<AnomalyDto[]> {
    return this.detections.anomalies(query);
  }

  @Get('anomalies/top-devices')
  @ApiOkResponse({ type: [DeviceAnomalyScoreDto], description: 'Devices by highest anomaly score.' })
  topDevices(@Query() query: DetectionRangeDto): Promise<DeviceAnomalyScoreDto[]> {
    return this.detections.topDevices(query);
  }

  @Get('forecasts/at-risk')
  @ApiOkResponse({
    type: [ForecastDto],
    description: 'The newest forecast per device and metric at or above a risk, soonest failure first.',
  })
  atRisk(@Query() query: ForecastsAtRiskQueryDto): Promise<ForecastDto[]> {
    return this.detections.atRisk(query);
  }

  @Get('forecasts')
  @ApiOkResponse({ type: [ForecastDto], description: 'Newest first.' })
  forecasts(@Query() query: ForecastsQueryDto): Promise<ForecastDto[]> {
    return this.detections.forecasts(query);
  }
}
