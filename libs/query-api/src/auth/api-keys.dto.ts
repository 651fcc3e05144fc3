import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches } from 'class-validator';
import { ROLES, type Role } from '../common/role.type.js';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'What the key is for, e.g. grafana-reader.', pattern: '^[\\w.@-]{3,64}$' })
  @IsString()
  @Matches(/^[\w.@-]{3,64}$/, { message: 'name: expected 3-64 letters, digits, ., _, @ or -' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES, { message: `role: expected one of ${ROLES.join(', ')}` })
  role!: Role;
}

export class ApiKeyDto {
  @ApiProperty()
  keyId!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty()
  createdBy!: string;

  @ApiProperty()
  createdAt!: string;

  @ApiProperty()
  revoked!: boolean;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'Send as the x-api-key header. Shown only now: it is stored hashed.' })
  apiKey!: string;
}
