import { ArgsType, Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { LabelDto } from '../common/label.dto.js';
import { TimeRangeArgs } from '../common/time-range.args.js';
import { FilterText, PageLimit } from '../common/query-fields.js';
import { SEVERITIES, type SeverityName } from '@sentio/clickhouse';
import { Duration } from '../graphql/duration.scalar.js';

@ArgsType()
export class LogsQueryDto extends TimeRangeArgs('an hour') {
  @ApiPropertyOptional()
  @Field({ nullable: true })
  @FilterText()
  device?: string;

  @ApiPropertyOptional({ enum: SEVERITIES, description: 'Minimum severity.' })
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(SEVERITIES, { message: `level: expected one of ${SEVERITIES.join(', ')}` })
  level?: SeverityName;

  @ApiPropertyOptional({ description: 'Case-insensitive text the body contains.' })
  @Field({ nullable: true })
  @FilterText(200)
  contains?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @Field({ nullable: true })
  @FilterText(512)
  cursor?: string;

  @ApiPropertyOptional({ default: 100 })
  @Field(() => Int, { nullable: true })
  @PageLimit()
  limit?: number;
}

@ArgsType()
export class LogHistogramQueryDto extends TimeRangeArgs('an hour') {
  @ApiPropertyOptional()
  @Field({ nullable: true })
  @FilterText()
  device?: string;

  @ApiPropertyOptional({ enum: SEVERITIES, description: 'Minimum severity.' })
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(SEVERITIES, { message: `level: expected one of ${SEVERITIES.join(', ')}` })
  level?: SeverityName;

  @ApiPropertyOptional({ description: 'Case-insensitive text the body contains.' })
  @Field({ nullable: true })
  @FilterText(200)
  contains?: string;

  @ApiPropertyOptional({
    description: 'Bucket width: 30s, 5m, 1h, 1d or seconds. Default: about 300 buckets over the range.',
  })
  @Field(() => Duration, { nullable: true })
  @FilterText(16)
  step?: string;
}

@ObjectType('LogBucket')
export class LogBucketDto {
  @ApiProperty({ description: 'Start of the bucket (ISO 8601).' })
  @Field()
  ts!: string;

  @ApiProperty()
  @Field(() => Float)
  count!: number;
}

@ObjectType('LogHistogram')
export class LogHistogramDto {
  @ApiProperty({ description: 'Bucket width in milliseconds.' })
  @Field(() => Float)
  stepMs!: number;

  @ApiProperty({ description: 'Start of the first bucket: from, widened to a whole step.' })
  @Field()
  from!: string;

  @ApiProperty({ description: 'End of the last bucket: to, widened to a whole step.' })
  @Field()
  to!: string;

  @ApiProperty({ type: [LogBucketDto], description: 'Non-empty buckets only, oldest first.' })
  @Field(() => [LogBucketDto])
  buckets!: LogBucketDto[];
}

@ObjectType('LogRecord')
export class LogRecordDto {
  @ApiProperty()
  @Field()
  ts!: string;

  @ApiProperty()
  @Field()
  deviceId!: string;

  @ApiProperty({ enum: SEVERITIES })
  @Field()
  severity!: string;

  @ApiProperty()
  @Field()
  body!: string;

  @ApiProperty({ type: [LabelDto] })
  @Field(() => [LabelDto])
  attributes!: LabelDto[];

  @ApiProperty()
  @Field()
  traceId!: string;

  @ApiProperty()
  @Field()
  spanId!: string;

  @ApiProperty()
  @Field()
  source!: string;

  @ApiProperty()
  @Field()
  eventId!: string;
}

@ObjectType('LogPage')
export class LogPageDto {
  @ApiProperty({ type: [LogRecordDto] })
  @Field(() => [LogRecordDto])
  items!: LogRecordDto[];

  @ApiPropertyOptional({ description: 'Pass as cursor for the next (older) page; absent on the last page.' })
  @Field(() => String, { nullable: true })
  nextCursor?: string;
}
