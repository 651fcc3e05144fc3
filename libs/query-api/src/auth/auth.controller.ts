import { Body, Controller, HttpCode, Inject, Post, Req, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { ChangePasswordDto, LoginDto, LogoutDto, RefreshDto, TokenPairDto } from './auth.dto.js';
import { AuthService } from './auth.service.js';
import { CurrentUser } from './current-user.decorator.js';
import { Public, Roles, type AuthenticatedUser } from './roles.decorator.js';
import { UsersService } from './users.service.js';

@ApiTags('auth')
@Controller('api/auth')
@UsePipes(apiValidationPipe)
export class AuthController {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  login(@Body() body: LoginDto, @Req() req: Request): Promise<TokenPairDto> {
    return this.auth.login(body.username, body.password, req.ip ?? 'unknown');
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  refresh(@Body() body: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(body.refreshToken);
  }

  /** Public because the refresh token is the credential: a client with an expired access token can log out. */
  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse()
  logout(@Body() body: LogoutDto): Promise<void> {
    return this.auth.logout(body.refreshToken, body.everywhere ?? false);
  }

  @Roles('viewer')
  @Post('password')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'Changed; every session of the user ends, log in again.' })
  changePassword(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: ChangePasswordDto,
    @Req() req: Request,
  ): Promise<void> {
    return this.users.changePassword(
      user.username,
      body.currentPassword,
      body.newPassword,
      req.ip ?? 'unknown',
    );
  }
}
