import { ArgsType, Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { TimeRangeArgs } from '../common/time-range.args.js';
import { FilterText, PageLimit } from '../common/query-fields.js';

@ArgsType()
export class DetectionRangeDto extends TimeRangeArgs('a day') {
  @ApiPropertyOptional({ default: 100 })
  @Field(() => Int, { nullable: true })
  @PageLimit()
  limit?: number;
}

@ArgsType()
export class AnomaliesQueryDto extends DetectionRangeDto {
  @ApiPropertyOptional()
  @Field({ nullable: true })
  @FilterText()
  device?: string;
}

@ArgsType()
export class ForecastsQueryDto extends DetectionRangeDto {
  @ApiProperty()
  @Field()
  @FilterText(256, false)
  device!: string;

  @ApiPropertyOptional()
  @Field({ nullable: true })
  @FilterText()
  metric?: string;
}

@ArgsType()
export class ForecastsAtRiskQueryDto extends DetectionRangeDto {
  @ApiPropertyOptional({
    enum: ['LOW', 'MEDIUM', 'HIGH'],
    default: 'LOW',
    description: 'Lowest risk listed.',
  })
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(['LOW', 'MEDIUM', 'HIGH'], { message: 'minRisk: expected one of LOW, MEDIUM, HIGH' })
  minRisk?: 'LOW' | 'MEDIUM' | 'HIGH';
}

@ObjectType('MetricContribution')
export class ContributionDto {
  @ApiProperty()
  @Field()
  metric!: string;

  @ApiProperty()
  @Field(() => Float)
  error!: number;
}

@ObjectType('Anomaly')
export class AnomalyDto {
  @ApiProperty()
  @Field()
  ts!: string;

  @ApiProperty()
  @Field()
  deviceId!: string;

  @ApiProperty()
  @Field()
  assetId!: string;

  @ApiProperty()
  @Field()
  windowStart!: string;

  @ApiProperty()
  @Field()
  windowEnd!: string;

  @ApiProperty()
  @Field(() => Float)
  score!: number;

  @ApiProperty()
  @Field(() => Float)
  threshold!: number;

  @ApiProperty({ type: [ContributionDto] })
  @Field(() => [ContributionDto])
  contributions!: ContributionDto[];

  @ApiProperty()
  @Field()
  modelId!: string;

  @ApiProperty()
  @Field()
  modelVersion!: string;

  @ApiProperty()
  @Field()
  eventId!: string;
}

@ObjectType('DeviceAnomalyScore')
export class DeviceAnomalyScoreDto {
  @ApiProperty()
  @Field()
  deviceId!: string;

  @ApiProperty()
  @Field(() => Float)
  maxScore!: number;

  @ApiProperty()
  @Field(() => Int)
  anomalies!: number;

  @ApiProperty()
  @Field()
  lastAnomaly!: string;

  @ApiProperty({ description: 'Model version of the highest-scoring anomaly.' })
  @Field()
  modelVersion!: string;
}

@ObjectType('ForecastPoint')
export class ForecastPointDto {
  @ApiProperty()
  @Field()
  ts!: string;

  @ApiProperty()
  @Field(() => Float)
  value!: number;

  @ApiProperty()
  @Field(() => Float)
  lower!: number;

  @ApiProperty()
  @Field(() => Float)
  upper!: number;
}

@ObjectType('Forecast')
export class ForecastDto {
  @ApiProperty()
  @Field()
  ts!: string;

  @ApiProperty()
  @Field()
  deviceId!: string;

  @ApiProperty()
  @Field()
  metric!: string;

  @ApiProperty({ type: [ForecastPointDto] })
  @Field(() => [ForecastPointDto])
  points!: ForecastPointDto[];

  @ApiProperty()
  @Field(() => Float)
  intervalLevel!: number;

  @ApiProperty({ type: Number, nullable: true })
  @Field(() => Float, { nullable: true })
  limitLower!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  @Field(() => Float, { nullable: true })
  limitUpper!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  @Field(() => Float, { nullable: true })
  timeToFailureMs!: number | null;

  @ApiProperty({ enum: ['NONE', 'LOW', 'MEDIUM', 'HIGH'] })
  @Field()
  risk!: string;

  @ApiProperty({ type: Number, nullable: true })
  @Field(() => Float, { nullable: true })
  confidence!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  @Field(() => Float, { nullable: true })
  mase!: number | null;

  @ApiProperty()
  @Field()
  modelId!: string;

  @ApiProperty()
  @Field()
  modelVersion!: string;

  @ApiProperty()
  @Field()
  eventId!: string;
}
