import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MIN_PASSWORD_LENGTH } from './password.service.js';
import { ROLES, type Role } from '../common/role.type.js';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{2,63}$/;

export class LoginDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @MaxLength(64)
  username!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(1024)
  password!: string;
}

export class RefreshDto {
  @ApiPropertyOptional({
    description:
      'The refresh token from login or the previous refresh; each works once. Without it, the sentio_refresh cookie is used.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  refreshToken?: string;
}

export class LogoutDto extends RefreshDto {
  @ApiPropertyOptional({ description: 'Also revoke every other session of the user.' })
  @IsOptional()
  @IsBoolean()
  everywhere?: boolean;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @MaxLength(1024)
  currentPassword!: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH })
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(1024)
  newPassword!: string;
}

export class CreateUserDto {
  @ApiProperty({ pattern: USERNAME_PATTERN.source })
  @IsString()
  @Matches(USERNAME_PATTERN, { message: 'username: expected 3-64 lowercase letters, digits, ., _, @ or -' })
  username!: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH })
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(1024)
  password!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES, { message: `role: expected one of ${ROLES.join(', ')}` })
  role?: Role;

  @ApiPropertyOptional({ description: 'A disabled user cannot sign in; their sessions end at once.' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ minLength: MIN_PASSWORD_LENGTH, description: 'A new password; their sessions end.' })
  @IsOptional()
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(1024)
  password?: string;
}

export class UserDto {
  @ApiProperty()
  username!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty()
  disabled!: boolean;
}

export class TokenPairDto {
  @ApiProperty()
  accessToken!: string;

  @ApiProperty()
  refreshToken!: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';

  @ApiProperty({ description: 'Seconds until the access token expires.' })
  expiresIn!: number;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty()
  username!: string;
}

export class AuthStatusDto {
  @ApiProperty({ description: 'False on a fresh install until the first admin is configured.' })
  adminExists!: boolean;

  @ApiPropertyOptional({ description: 'What to do when no admin exists.' })
  message?: string;
}

export class CurrentUserDto {
  @ApiProperty()
  username!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty({ enum: ['user', 'api-key'] })
  kind!: 'user' | 'api-key';
}
