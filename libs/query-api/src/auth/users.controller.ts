import { Body, Controller, Get, Inject, Param, Patch, Post, Req, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { CreateUserDto, UpdateUserDto, UserDto } from './auth.dto.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { Roles } from '../common/roles.decorator.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/users')
@Roles('admin')
@UsePipes(apiValidationPipe)
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Get()
  @ApiOkResponse({ type: [UserDto] })
  list(): Promise<UserDto[]> {
    return this.users.list();
  }

  @Post()
  @ApiCreatedResponse({ type: UserDto })
  create(
    @Body() body: CreateUserDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<UserDto> {
    return this.users.create(body.username, body.password, body.role, actor, req.ip ?? 'unknown');
  }

  @Patch(':username')
  @ApiOkResponse({ type: UserDto })
  update(
    @Param('username') username: string,
    @Body() body: UpdateUserDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<UserDto> {
    return this.users.update(username, body, actor, req.ip ?? 'unknown');
  }
}
