import { ArgsType, Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { LabelDto } from '../common/label.dto.js';
import { TimeRangeArgs } from '../common/time-range.args.js';
import { FilterText, PageLimit } from '../common/query-fields.js';
import { SPAN_STATUSES, type SpanStatus } from '@sentio/clickhouse';

@ArgsType()
export class TraceQueryDto {
  @ApiProperty()
  @Field()
  @FilterText(64, false)
  traceId!: string;
}

@ArgsType()
export class SpansQueryDto extends TimeRangeArgs('an hour') {
  @ApiPropertyOptional()
  @Field({ nullable: true })
  @FilterText()
  service?: string;

  @ApiPropertyOptional({ description: 'Span name.' })
  @Field({ nullable: true })
  @FilterText()
  name?: string;

  @ApiPropertyOptional({ description: 'Spans at least this long, in milliseconds.' })
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'minDurationMs: expected an integer' })
  @Min(0, { message: 'minDurationMs: expected at least 0' })
  @Max(86_400_000, { message: 'minDurationMs: expected at most 86400000' })
  minDurationMs?: number;

  @ApiPropertyOptional({ enum: SPAN_STATUSES })
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(SPAN_STATUSES, { message: `status: expected one of ${SPAN_STATUSES.join(', ')}` })
  status?: SpanStatus;

  @ApiPropertyOptional({ default: 100 })
  @Field(() => Int, { nullable: true })
  @PageLimit()
  limit?: number;
}

@ObjectType('SpanEvent')
export class SpanEventDto {
  @ApiProperty({ description: 'Epoch microseconds.' })
  @Field(() => Float)
  timeUs!: number;

  @ApiProperty()
  @Field()
  name!: string;

  @ApiProperty({ type: [LabelDto] })
  @Field(() => [LabelDto])
  attributes!: LabelDto[];
}

@ObjectType('Span')
export class SpanDto {
  @ApiProperty()
  @Field()
  traceId!: string;

  @ApiProperty()
  @Field()
  spanId!: string;

  @ApiProperty({ description: 'Empty for a root span.' })
  @Field()
  parentSpanId!: string;

  @ApiProperty()
  @Field()
  name!: string;

  @ApiProperty()
  @Field()
  serviceName!: string;

  @ApiProperty()
  @Field()
  deviceId!: string;

  @ApiProperty()
  @Field()
  kind!: string;

  @ApiProperty({ description: 'Start (ISO 8601, milliseconds).' })
  @Field()
  startTime!: string;

  @ApiProperty({ description: 'Start in epoch microseconds, for a waterfall.' })
  @Field(() => Float)
  startTimeUs!: number;

  @ApiProperty()
  @Field(() => Float)
  durationUs!: number;

  @ApiProperty({ enum: SPAN_STATUSES })
  @Field()
  status!: string;

  @ApiProperty()
  @Field()
  statusMessage!: string;

  @ApiProperty({ type: [LabelDto] })
  @Field(() => [LabelDto])
  attributes!: LabelDto[];

  @ApiProperty({ type: [SpanEventDto] })
  @Field(() => [SpanEventDto])
  events!: SpanEventDto[];
}
