import { ArgsType, Field, Float, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { TimeRangeArgs } from '../common/time-range.args.js';
import { FilterText } from '../common/query-fields.js';
import { AGGREGATIONS, type Aggregation } from '@sentio/clickhouse';
import { Duration } from '../graphql/duration.scalar.js';

@ArgsType()
export class SeriesQueryDto extends TimeRangeArgs('an hour') {
  @ApiProperty()
  @Field()
  @FilterText(256, false)
  device!: string;

  @ApiProperty()
  @Field()
  @FilterText(256, false)
  metric!: string;

  @ApiPropertyOptional({
    description: 'Bucket width: 30s, 5m, 1h, 1d or seconds. Default: about 300 points over the range.',
  })
  @Field(() => Duration, { nullable: true })
  @FilterText(16)
  step?: string;

  @ApiPropertyOptional({ enum: AGGREGATIONS, default: 'avg' })
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(AGGREGATIONS, { message: `agg: expected one of ${AGGREGATIONS.join(', ')}` })
  agg?: Aggregation;
}

@ArgsType()
export class LatestQueryDto {
  @ApiProperty()
  @Field()
  @FilterText(256, false)
  device!: string;
}

@ObjectType('SeriesPoint')
export class SeriesPointDto {
  @ApiProperty({ description: 'Start of the bucket (ISO 8601).' })
  @Field()
  ts!: string;

  @ApiProperty()
  @Field(() => Float)
  value!: number;
}

@ObjectType('Series')
export class SeriesDto {
  @ApiProperty()
  @Field()
  device!: string;

  @ApiProperty()
  @Field()
  metric!: string;

  @ApiProperty({ enum: AGGREGATIONS })
  @Field()
  agg!: string;

  @ApiProperty({
    enum: ['raw', '1m', '5m', '1h'],
    description: 'The table that answered: raw samples or a rollup (quantiles from rollups are estimates).',
  })
  @Field()
  resolution!: string;

  @ApiProperty({ description: 'Bucket width in milliseconds.' })
  @Field(() => Float)
  stepMs!: number;

  @ApiProperty({ description: 'Start of the first bucket: from, widened to a whole step.' })
  @Field()
  from!: string;

  @ApiProperty({ description: 'End of the last bucket: to, widened to a whole step.' })
  @Field()
  to!: string;

  @ApiProperty({ type: [SeriesPointDto], description: 'Non-empty buckets only, oldest first.' })
  @Field(() => [SeriesPointDto])
  points!: SeriesPointDto[];
}

@ObjectType('LatestValue')
export class LatestValueDto {
  @ApiProperty()
  @Field()
  metric!: string;

  @ApiProperty({ type: Number, nullable: true })
  @Field(() => Float, { nullable: true })
  value!: number | null;

  @ApiProperty()
  @Field()
  unit!: string;

  @ApiProperty({ enum: ['GOOD', 'UNCERTAIN', 'BAD'] })
  @Field()
  quality!: string;

  @ApiProperty()
  @Field()
  ts!: string;
}
