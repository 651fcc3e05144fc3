import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './api-keys.dto.js';
import { ApiKeysService } from './api-keys.service.js';
import { CurrentUser } from '../common/current-user.decorator.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { Roles } from '../common/roles.decorator.js';

@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('api/keys')
@Roles('admin')
@UsePipes(apiValidationPipe)
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  @Get()
  @ApiOkResponse({ type: [ApiKeyDto] })
  list(): Promise<ApiKeyDto[]> {
    return this.keys.list();
  }

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(
    @Body() body: CreateApiKeyDto,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.create(body.name, body.role, user, req.ip ?? 'unknown');
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked: the key stops working at once.' })
  revoke(
    @Param('keyId', new ParseUUIDPipe()) keyId: string,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<void> {
    return this.keys.revoke(keyId, user, req.ip ?? 'unknown');
  }
}
