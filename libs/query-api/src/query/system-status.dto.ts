import { Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty } from '@nestjs/swagger';
import { DeadLetterCountDto } from './dead-letters.dto.js';

@ObjectType('ComponentHealth')
export class ComponentHealthDto {
  @ApiProperty()
  @Field()
  name!: string;

  @ApiProperty({ enum: ['up', 'degraded', 'down'] })
  @Field()
  state!: string;

  @ApiProperty({ description: 'The component’s own detail, as JSON.' })
  @Field()
  detail!: string;
}

@ObjectType('TopicLag')
export class TopicLagDto {
  @ApiProperty()
  @Field()
  topic!: string;

  @ApiProperty({ description: 'Records not yet committed by the group, over all partitions.' })
  @Field(() => Float)
  lag!: number;
}

@ObjectType('ConsumerGroupLag')
export class ConsumerGroupLagDto {
  @ApiProperty()
  @Field()
  groupId!: string;

  @ApiProperty()
  @Field(() => Float)
  lag!: number;

  @ApiProperty({ type: [TopicLagDto] })
  @Field(() => [TopicLagDto])
  topics!: TopicLagDto[];
}

@ObjectType('TableSize')
export class TableSizeDto {
  @ApiProperty()
  @Field()
  table!: string;

  @ApiProperty()
  @Field(() => Float)
  rows!: number;

  @ApiProperty()
  @Field(() => Float)
  bytesOnDisk!: number;

  @ApiProperty()
  @Field(() => Int)
  parts!: number;
}

@ObjectType('SystemStatus')
export class SystemStatusDto {
  @ApiProperty({ enum: ['up', 'degraded', 'down'], description: 'The worst state of any component.' })
  @Field()
  status!: string;

  @ApiProperty({ type: [ComponentHealthDto], description: 'Kafka, ClickHouse, ingest, connectors, ...' })
  @Field(() => [ComponentHealthDto])
  components!: ComponentHealthDto[];

  @ApiProperty({
    type: [ConsumerGroupLagDto],
    description: 'Groups with offsets on this namespace’s topics.',
  })
  @Field(() => [ConsumerGroupLagDto])
  consumerGroups!: ConsumerGroupLagDto[];

  @ApiProperty({ type: [TableSizeDto] })
  @Field(() => [TableSizeDto])
  tables!: TableSizeDto[];

  @ApiProperty({
    type: [DeadLetterCountDto],
    description: 'Dead letters by component, source topic and kind of reason, most frequent first.',
  })
  @Field(() => [DeadLetterCountDto])
  deadLetters!: DeadLetterCountDto[];
}
