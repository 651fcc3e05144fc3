import { ArgsType, Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FilterText, PageLimit } from '../common/query-fields.js';

@ArgsType()
export class DeadLettersQueryDto {
  @ApiPropertyOptional({
    default: 100,
    description: 'Most recent dead letters to return (at most 500 are kept).',
  })
  @Field(() => Int, { nullable: true })
  @PageLimit()
  limit?: number;

  @ApiPropertyOptional({ description: 'Only this component (ingest, a connector, otlp, ...).' })
  @Field({ nullable: true })
  @FilterText(128)
  component?: string;
}

@ObjectType('DeadLetter')
export class DeadLetterDto {
  @ApiProperty({ description: 'When the component gave up on the record (ISO 8601).' })
  @Field()
  failedAt!: string;

  @ApiProperty()
  @Field()
  component!: string;

  @ApiProperty()
  @Field()
  reason!: string;

  @ApiProperty()
  @Field()
  sourceTopic!: string;

  @ApiProperty({
    description: 'Partition and offset in the source topic, or -1 and empty for a non-Kafka input.',
  })
  @Field(() => Int)
  sourcePartition!: number;

  @ApiProperty()
  @Field()
  sourceOffset!: string;

  @ApiProperty({
    description: 'Where the dead letter itself is: partition and offset in the dead-letter topic.',
  })
  @Field(() => Int)
  partition!: number;

  @ApiProperty()
  @Field()
  offset!: string;

  @ApiProperty({ type: String, nullable: true })
  @Field(() => String, { nullable: true })
  key!: string | null;

  @ApiProperty({ description: 'Size of the value as stored in the dead-letter topic, in bytes.' })
  @Field(() => Int)
  valueBytes!: number;

  @ApiProperty({
    description: 'Size of the original input: larger than valueBytes when it was truncated to fit.',
  })
  @Field(() => Float)
  originalBytes!: number;

  @ApiProperty({ description: 'Whether the stored value is only the start of the original input.' })
  @Field()
  truncated!: boolean;

  @ApiProperty({ type: String, nullable: true, description: 'SHA-256 of the original input, when recorded.' })
  @Field(() => String, { nullable: true })
  originalSha256!: string | null;

  @ApiProperty({ description: 'The start of the value: text when it is UTF-8, else hexadecimal.' })
  @Field()
  valuePreview!: string;

  @ApiProperty({ enum: ['utf8', 'hex', 'none'] })
  @Field()
  valueEncoding!: string;
}

@ObjectType('DeadLetterCount')
export class DeadLetterCountDto {
  @ApiProperty()
  @Field()
  component!: string;

  @ApiProperty()
  @Field()
  sourceTopic!: string;

  @ApiProperty({ description: 'The reason, with numbers and quoted values replaced so alike reasons group.' })
  @Field()
  reason!: string;

  @ApiProperty()
  @Field(() => Float)
  count!: number;

  @ApiProperty()
  @Field()
  lastFailedAt!: string;
}

@ObjectType('DeadLetterPage')
export class DeadLetterPageDto {
  @ApiProperty({
    description: 'Dead letters in the topic (within its retention) since this process started reading.',
  })
  @Field(() => Float)
  total!: number;

  @ApiProperty({ type: [DeadLetterCountDto], description: 'Most frequent first.' })
  @Field(() => [DeadLetterCountDto])
  byReason!: DeadLetterCountDto[];

  @ApiProperty({ type: [DeadLetterDto], description: 'Newest first.' })
  @Field(() => [DeadLetterDto])
  items!: DeadLetterDto[];
}
