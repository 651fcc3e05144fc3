import { ArgsType, Field, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { LabelDto } from '../common/label.dto.js';
import { FilterText, PageLimit, QueryBoolean } from '../common/query-fields.js';
import { LatestValueDto } from './metrics.dto.js';

@ArgsType()
export class DevicesQueryDto {
  @ApiPropertyOptional({ description: 'Device type, e.g. pump.' })
  @Field({ nullable: true })
  @FilterText()
  type?: string;

  @ApiPropertyOptional({ description: 'Connector instance, e.g. simulator.' })
  @Field({ nullable: true })
  @FilterText()
  connector?: string;

  @ApiPropertyOptional()
  @Field({ nullable: true })
  @QueryBoolean()
  online?: boolean;

  @ApiPropertyOptional({ description: 'A label and its value, e.g. site=north.', example: 'site=north' })
  @Field({ nullable: true })
  @FilterText(300)
  @Matches(/^[^=]+=.*$/s, { message: 'label: expected key=value' })
  label?: string;

  @ApiPropertyOptional({ description: 'Case-insensitive text the device id contains.' })
  @Field({ nullable: true })
  @FilterText(128)
  search?: string;

  @ApiPropertyOptional({ description: 'Include devices whose last event is REMOVED.', default: false })
  @Field({ nullable: true })
  @QueryBoolean()
  includeRemoved?: boolean;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @Field({ nullable: true })
  @FilterText()
  cursor?: string;

  @ApiPropertyOptional({ default: 100 })
  @Field(() => Int, { nullable: true })
  @PageLimit()
  limit?: number;
}

@ObjectType('MetricDescriptor')
export class MetricDescriptorDto {
  @ApiProperty()
  @Field()
  name!: string;

  @ApiProperty()
  @Field()
  unit!: string;
}

@ObjectType('Device')
export class DeviceDto {
  @ApiProperty()
  @Field()
  deviceId!: string;

  @ApiProperty({ enum: ['DISCOVERED', 'UPDATED', 'REMOVED', 'ONLINE', 'OFFLINE'] })
  @Field()
  lastEvent!: string;

  @ApiProperty()
  @Field()
  deviceType!: string;

  @ApiProperty()
  @Field()
  vendor!: string;

  @ApiProperty()
  @Field()
  model!: string;

  @ApiProperty()
  @Field()
  connector!: string;

  @ApiProperty()
  @Field()
  online!: boolean;

  @ApiProperty()
  @Field()
  removed!: boolean;

  @ApiProperty({ type: [LabelDto] })
  @Field(() => [LabelDto])
  labels!: LabelDto[];

  @ApiProperty({ type: [MetricDescriptorDto] })
  @Field(() => [MetricDescriptorDto])
  metrics!: MetricDescriptorDto[];

  @ApiProperty({ description: 'Time of the newest lifecycle event (ISO 8601).' })
  @Field()
  updatedAt!: string;

  @ApiPropertyOptional({ description: 'Time of the newest sample (ISO 8601); absent if none was received.' })
  @Field(() => String, { nullable: true })
  lastSeen?: string;

  @ApiProperty({ type: [LatestValueDto], description: 'The newest sample of each metric.' })
  @Field(() => [LatestValueDto])
  latest!: LatestValueDto[];
}

@ObjectType('DevicePage')
export class DevicePageDto {
  @ApiProperty({ type: [DeviceDto] })
  @Field(() => [DeviceDto])
  items!: DeviceDto[];

  @ApiPropertyOptional({ description: 'Pass as cursor for the next page; absent on the last page.' })
  @Field(() => String, { nullable: true })
  nextCursor?: string;
}
