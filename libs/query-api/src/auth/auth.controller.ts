import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import { Public, Roles } from '../common/roles.decorator.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import {
  AuthStatusDto,
  ChangePasswordDto,
  CurrentUserDto,
  LoginDto,
  LogoutDto,
  RefreshDto,
  TokenPairDto,
} from './auth.dto.js';
import { AuthService } from './auth.service.js';
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from './refresh-cookie.util.js';
import { UsersService } from './users.service.js';

/**
 * Sessions for scripts and browsers alike: login and refresh answer the token pair in the body and set the
 * refresh token as an httpOnly cookie too; refresh and logout take the token from the body, else from the
 * cookie. A browser keeps the access token in memory only and never sees the refresh token.
 */
@ApiTags('auth')
@Controller('api/auth')
@UsePipes(apiValidationPipe)
export class AuthController {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  @Public()
  @Get('status')
  @ApiOkResponse({ type: AuthStatusDto, description: 'Whether an admin exists (a fresh install has none).' })
  status(): Promise<AuthStatusDto> {
    return this.users.status();
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto, description: 'Also sets the sentio_refresh cookie.' })
  async login(
    @Body() body: LoginDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TokenPairDto> {
    return this.withCookie(req, res, await this.auth.login(body.username, body.password, clientIp(req)));
  }

  /** Rotates the refresh token: the one presented is spent, a new pair (and cookie) comes back. */
  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto, description: 'Also sets the rotated sentio_refresh cookie.' })
  async refresh(
    @Body() body: RefreshDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TokenPairDto> {
    const token = body.refreshToken ?? readRefreshCookie(req);
    try {
      if (!token) throw new UnauthorizedException('no refresh token: log in again');
      return this.withCookie(req, res, await this.auth.refresh(token));
    } catch (error) {
      // A cookie that no longer works is dropped, so the browser stops sending it.
      clearRefreshCookie(req, res, this.config.cookieSecure);
      throw error;
    }
  }

  /**
   * Public because the refresh token is the credential: a client with an expired access token can log out.
   * A script's unknown token is an error; a browser without a (working) cookie is simply logged out.
   */
  @Public()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked; the sentio_refresh cookie is cleared.' })
  async logout(
    @Body() body: LogoutDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    clearRefreshCookie(req, res, this.config.cookieSecure);
    const everywhere = body.everywhere ?? false;
    if (body.refreshToken !== undefined) return this.auth.logout(body.refreshToken, everywhere);
    const cookie = readRefreshCookie(req);
    if (cookie !== undefined) await this.auth.logout(cookie, everywhere, false);
  }

  @Roles('viewer')
  @Get('me')
  @ApiBearerAuth()
  @ApiOkResponse({ type: CurrentUserDto })
  me(@CurrentUser() user: AuthenticatedUser): CurrentUserDto {
    return { username: user.username, role: user.role, kind: user.kind };
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
    return this.users.changePassword(user.username, body.currentPassword, body.newPassword, clientIp(req));
  }

  private withCookie(req: Request, res: Response, pair: TokenPairDto): TokenPairDto {
    setRefreshCookie(
      req,
      res,
      pair.refreshToken,
      this.config.refreshTokenTtlSeconds,
      this.config.cookieSecure,
    );
    return pair;
  }
}

function clientIp(req: Request): string {
  return req.ip ?? 'unknown';
}
