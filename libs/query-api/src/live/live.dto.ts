import { ArgsType, Field, ObjectType } from '@nestjs/graphql';
import { FilterText } from '../common/query-fields.js';
import { AnomalyDto } from '../query/detections.dto.js';
import { LatestValueDto } from '../query/metrics.dto.js';

@ArgsType()
export class LiveFilterDto {
  @Field({ nullable: true, description: 'Only this device; all devices when absent.' })
  @FilterText()
  device?: string;

  @Field({
    nullable: true,
    description:
      'Resume after the event with this cursor (anomalies, lifecycle): the events missed since are sent first. Fails with RESUME_NOT_COVERED when this instance cannot tell.',
  })
  @FilterText(4096)
  after?: string;
}

const CURSOR = 'Position of this event in the stream; pass it as `after` to resume on any instance.';

@ObjectType('LiveAnomaly')
export class LiveAnomalyDto extends AnomalyDto {
  @Field({ description: CURSOR })
  cursor!: string;
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

  @Field({ description: CURSOR })
  cursor!: string;
}
