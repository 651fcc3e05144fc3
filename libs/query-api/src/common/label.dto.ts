import { Field, ObjectType } from '@nestjs/graphql';
import { ApiProperty } from '@nestjs/swagger';

/** A map entry: GraphQL has no map type, so maps are lists of pairs in both APIs alike. */
@ObjectType('Label')
export class LabelDto {
  @ApiProperty()
  @Field()
  key!: string;

  @ApiProperty()
  @Field()
  value!: string;
}

export function toLabels(map: Record<string, string>): LabelDto[] {
  return Object.entries(map).map(([key, value]) => ({ key, value }));
}
