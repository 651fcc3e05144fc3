import { ArgsType, Field, ObjectType } from '@nestjs/graphql';
import { FilterText } from '../common/query-fields.js';
import { LatestValueDto } from '../query/metrics.dto.js';

@ArgsType()
export class LiveFilterDto {
  @Field({ nullable: true, description: 'Only this device; all devices when absent.' })
  @FilterText()
  device?: string;
}

@ObjectType('DeviceTelemetry')
export class DeviceTelemetryDto {
  @Field()
  deviceId!: string;

  @Field(() => [LatestValueDto], {
    description: 'The newest sample of each metric seen since the feed started.',
  })
  values!: LatestValueDto[];
}

@ObjectType('LifecycleChange')
export class LifecycleChangeDto {
  @Field()
  ts!: string;

  @Field()
  deviceId!: string;

  @Field()
  kind!: string;

  @Field()
  deviceType!: string;

  @Field()
  connector!: string;

  @Field()
  online!: boolean;
}
