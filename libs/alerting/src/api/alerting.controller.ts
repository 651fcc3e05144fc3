import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { AlertEvent, AlertRuleRecord } from '@sentio/events';
import { CurrentUser, Roles, type AuthenticatedUser } from '@sentio/query-api';
import type { Request } from 'express';
import type { AlertingConfig } from '../alerting.config.js';
import { ALERTING_CONFIG } from '../alerting.tokens.js';
import type { BacktestResult } from '../backtest/backtest.js';
import type { Silence } from '../dispatch/silences.js';
import type { DeliveryAttempt } from '../notify/notification-log.js';
import {
  AlertHistoryService,
  type AlertHistoryPage,
  type AlertHistoryQuery,
} from './alert-history.service.js';
import { AlertingApiService } from './alerting-api.service.js';
import { receiversView, routingView, type ReceiverView } from './notification-config.view.js';

const ctx = (user: AuthenticatedUser, req: Request) => ({ user, ip: req.ip ?? '' });

/** Rules, alerts, silences and deliveries over REST. Reading needs viewer; changing needs operator. */
@ApiTags('alerting')
@ApiBearerAuth()
@Controller('api/alerting')
@Roles('viewer')
export class AlertingController {
  constructor(
    @Inject(AlertingApiService) private readonly api: AlertingApiService,
    @Inject(ALERTING_CONFIG) private readonly config: AlertingConfig,
    @Inject(AlertHistoryService) private readonly history: AlertHistoryService,
  ) {}

  /** Receivers and their integrations as configured (secrets masked): admin only. */
  @Get('receivers')
  @Roles('admin')
  receivers(): ReceiverView[] {
    return receiversView(this.config);
  }

  /** The routing tree and the inhibition rules as configured: admin only. */
  @Get('routes')
  @Roles('admin')
  routes(): ReturnType<typeof routingView> {
    return routingView(this.config);
  }

  @Get('rules')
  rules(): Promise<AlertRuleRecord[]> {
    return this.api.listRules();
  }

  @Get('rules/:id')
  rule(@Param('id') id: string): Promise<AlertRuleRecord> {
    return this.api.getRule(id);
  }

  @Post('rules')
  @Roles('operator')
  create(
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<AlertRuleRecord> {
    return this.api.putRule(body, ctx(user, req), 'create');
  }

  @Put('rules/:id')
  @Roles('operator')
  replace(
    @Param('id') id: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<AlertRuleRecord> {
    return this.api.putRule(body, ctx(user, req), 'replace', id);
  }

  @Post('rules/:id/pause')
  @HttpCode(200)
  @Roles('operator')
  pause(
    @Param('id') id: string,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<AlertRuleRecord> {
    return this.api.setPaused(id, true, ctx(user, req));
  }

  @Post('rules/:id/resume')
  @HttpCode(200)
  @Roles('operator')
  resume(
    @Param('id') id: string,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<AlertRuleRecord> {
    return this.api.setPaused(id, false, ctx(user, req));
  }

  @Delete('rules/:id')
  @Roles('operator')
  remove(
    @Param('id') id: string,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<AlertRuleRecord> {
    return this.api.deleteRule(id, ctx(user, req));
  }

  /** The rule preview: what the rule would have done over [from, to] (a backtest; nothing is sent). */
  @Post('rules/preview')
  @HttpCode(200)
  preview(@Body() body: { rule?: unknown; from?: string; to?: string }): Promise<BacktestResult> {
    return this.api.preview(body ?? {});
  }

  @Get('alerts')
  async alerts(@Query('state') state?: string): Promise<AlertEvent[]> {
    await this.api.view.ready();
    const all = [...this.api.view.alerts.values()];
    const active = (a: AlertEvent) => a.status !== 'RESOLVED' && a.status !== 'INACTIVE';
    return (state === 'all' ? all : all.filter(active)).sort((a, b) => b.timestampMs - a.timestampMs);
  }

  /**
   * Alert history from the `alerts` table: transitions newest first, filtered by `state` and `severity`
   * (comma-separated), `device`, `rule`, `from`/`to` (ISO or epoch ms), a page of `limit` (<= 1000) at a time;
   * `next` is the `cursor` of the following page.
   */
  @Get('history')
  historyList(@Query() query: AlertHistoryQuery): Promise<AlertHistoryPage> {
    return this.history.list(query ?? {});
  }

  /** One alert's transitions, oldest first, from the `alerts` table (the newest `limit`, default 10,000). */
  @Get('alerts/:alertId/history')
  alertHistory(@Param('alertId') alertId: string, @Query('limit') limit?: string): Promise<AlertEvent[]> {
    return this.history.history(alertId, limit);
  }

  @Post('alerts/:alertId/ack')
  @HttpCode(200)
  @Roles('operator')
  ack(
    @Param('alertId') alertId: string,
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<AlertEvent> {
    return this.api.acknowledge(alertId, body, ctx(user, req));
  }

  @Get('silences')
  async silences(): Promise<Silence[]> {
    await this.api.view.ready();
    return [...this.api.view.silences.values()].sort((a, b) => b.startsAt - a.startsAt);
  }

  @Post('silences')
  @Roles('operator')
  silence(
    @Body() body: unknown,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<Silence> {
    return this.api.createSilence(body, ctx(user, req));
  }

  @Delete('silences/:id')
  @Roles('operator')
  expire(
    @Param('id') id: string,
    @CurrentUser() user: AuthenticatedUser,
    @Req() req: Request,
  ): Promise<Silence> {
    return this.api.expireSilence(id, ctx(user, req));
  }

  /** Every delivery attempt, newest first (`receiver`, `failed=true` filter). */
  @Get('deliveries')
  async deliveries(
    @Query('receiver') receiver?: string,
    @Query('failed') failed?: string,
    @Query('limit') limit?: string,
  ): Promise<DeliveryAttempt[]> {
    await this.api.view.ready();
    const max = Math.min(Math.max(Number(limit ?? 100) || 100, 1), 10_000);
    return this.api.view.deliveries
      .filter((d) => (receiver === undefined || d.receiver === receiver) && (failed !== 'true' || !d.ok))
      .slice(-max)
      .reverse();
  }
}
