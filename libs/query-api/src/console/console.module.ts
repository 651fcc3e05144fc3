import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Application } from 'express';
import { ConsoleFilesService } from './console-files.service.js';

/**
 * The operator console (apps/web) at `/`. Its handler is added when the modules initialise, which is after
 * Nest has registered every route and before its 404 handler: routes always win, and an address no route
 * knows gets the console (or the API's 404).
 */
@Module({ providers: [ConsoleFilesService] })
export class ConsoleModule implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(ConsoleFilesService) private readonly files: ConsoleFilesService,
  ) {}

  onModuleInit(): void {
    // No HTTP server (a standalone application context): nothing to serve.
    const app = this.adapterHost.httpAdapter?.getInstance<Application>();
    app?.use(this.files.handle);
  }
}
