import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { Public, Roles } from './common/roles.decorator.js';
import { QueryModule } from './query/query.module.js';

/**
 * The OpenAPI document of the query API's own routes. SwaggerModule.setup wants the application object,
 * which a module never sees; the scanner only reads the module graph and the adapter type from it, so it
 * gets those, built lazily on first request (every controller is registered by then).
 */
@ApiExcludeController()
@Controller('api')
export class OpenApiController {
  private document?: OpenAPIObject;

  constructor(
    @Inject(ModulesContainer) private readonly modules: ModulesContainer,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Public while introspection is on (QUERY_API_INTROSPECTION; off in production), else for any signed-in role. */
  @Public('introspection')
  @Roles('viewer')
  @Get('docs-json')
  openApi(): OpenAPIObject {
    this.document ??= SwaggerModule.createDocument(
      {
        container: { getModules: () => this.modules },
        config: new ApplicationConfig(),
        getHttpAdapter: () => this.adapterHost.httpAdapter,
      } as unknown as Parameters<typeof SwaggerModule.createDocument>[0],
      new DocumentBuilder()
        .setTitle('Sentio query API')
        .setDescription('Devices, metrics and logs of the plant, read from the ClickHouse projections.')
        .setVersion('1')
        .addBearerAuth()
        .build(),
      { include: [AuthModule, AuditModule, QueryModule] },
    );
    return this.document;
  }
}
