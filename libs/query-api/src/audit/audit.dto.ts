import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FilterText, PageLimit } from '../common/query-fields.js';

export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'Epoch milliseconds or ISO 8601. Default: 30 days before to.' })
  @FilterText(40)
  from?: string;

  @ApiPropertyOptional({ description: 'Epoch milliseconds or ISO 8601. Default: now.' })
  @FilterText(40)
  to?: string;

  @ApiPropertyOptional({ default: 100 })
  @PageLimit()
  limit?: number;
}

export class AuditEventDto {
  @ApiProperty()
  ts!: string;

  @ApiProperty({ description: 'A username, an API key id, or system.' })
  actor!: string;

  @ApiProperty({ enum: ['user', 'api-key', 'system'] })
  actorKind!: string;

  @ApiProperty({ example: 'api-key.create' })
  action!: string;

  @ApiProperty()
  target!: string;

  @ApiProperty({ description: 'JSON of the parameters of the action.' })
  detail!: string;

  @ApiProperty()
  ip!: string;
}
