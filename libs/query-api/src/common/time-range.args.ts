import { ArgsType, Field } from '@nestjs/graphql';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { FilterText } from './query-fields.js';

const TIME = 'Epoch milliseconds or ISO 8601 with a zone.';

/** `from` and `to` of a query, the same for REST and GraphQL; `defaultSpan` says where `from` starts when omitted. */
export function TimeRangeArgs(defaultSpan: string) {
  @ArgsType()
  abstract class TimeRange {
    @ApiPropertyOptional({ description: `${TIME} Default: ${defaultSpan} before to.` })
    @Field({ nullable: true })
    @FilterText(40)
    from?: string;

    @ApiPropertyOptional({ description: `${TIME} Default: now.` })
    @Field({ nullable: true })
    @FilterText(40)
    to?: string;
  }
  return TimeRange;
}
