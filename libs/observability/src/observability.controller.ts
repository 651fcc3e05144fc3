import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HealthRegistry } from './health.registry.js';
import { metricsRegistry } from './metrics.js';

@Controller()
export class ObservabilityController {
  constructor(private readonly health: HealthRegistry) {}

  @Get('health')
  async getHealth(@Res() res: Response): Promise<void> {
    const summary = await this.health.summary();
    res.status(summary.status === 'down' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.OK).json(summary);
  }

  @Get('metrics')
  @Header('Content-Type', metricsRegistry.contentType)
  getMetrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
