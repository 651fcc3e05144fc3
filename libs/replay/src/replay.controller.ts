import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  Post,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { isProjectionFamily, PROJECTION_FAMILIES, type ProjectionFamily } from '@sentio/clickhouse';
import { Roles, type AuthenticatedUser } from '@sentio/query-api';
import type { RescoreResult } from './detector-rescore.js';
import { DetectorRescoreService, type ComparisonReport } from './detector-rescore.service.js';
import { ProjectionVersionsService, type VersionStatus } from './projection-versions.service.js';
import { ReplayService, type ReplayPlan, type ReplayProgress } from './replay.service.js';
import { parseFaultIntervals } from './version-compare.util.js';

/**
 * Fails closed: the process-wide AccessGuard of the api target authenticates and checks @Roles; in a process
 * without the api target nobody is authenticated, and this refuses every request instead of serving it.
 */
@Injectable()
export class AdminOnly implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user;
    if (user?.role !== 'admin') throw new ForbiddenException('replays are for admins');
    return true;
  }
}

interface StartBody {
  family?: unknown;
  from?: unknown;
  to?: unknown;
  devices?: unknown;
  swap?: unknown;
  dryRun?: unknown;
}

interface RescoreBody {
  model?: unknown;
  from?: unknown;
  to?: unknown;
  devices?: unknown;
  /** compare: fault intervals as CSV text (device,start,end). */
  labels?: unknown;
}

const WEEK_MS = 7 * 24 * 3_600_000;

/** Start, list, pause, resume and cancel replays; roll back and drop versions (admin role). */
@Controller('api/replays')
@Roles('admin')
@UseGuards(AdminOnly)
export class ReplayController {
  constructor(
    @Inject(ReplayService) private readonly replays: ReplayService,
    @Inject(ProjectionVersionsService) private readonly versions: ProjectionVersionsService,
    @Inject(DetectorRescoreService) private readonly rescores: DetectorRescoreService,
  ) {}

  /** Re-scores a range of telemetry (default: the last week) with a stored model version; answers when done. */
  @Post('detectors')
  @HttpCode(200)
  rescore(@Body() body: RescoreBody): Promise<RescoreResult> {
    if (typeof body.model !== 'string' || body.model.length === 0)
      throw new BadRequestException('model: expected a model version (current, previous or a version id)');
    const toMs = instant(body.to, 'to') ?? Date.now();
    const fromMs = instant(body.from, 'from') ?? toMs - WEEK_MS;
    if (fromMs >= toMs) throw new BadRequestException('from must be before to');
    return this.rescores.rescore({ modelVersion: body.model, fromMs, toMs, devices: devices(body.devices) });
  }

  /** Anomalies and forecasts per model version in a range; precision and recall against CSV labels if given. */
  @Post('compare')
  @HttpCode(200)
  compare(@Body() body: RescoreBody): Promise<ComparisonReport> {
    const toMs = instant(body.to, 'to') ?? Date.now();
    const fromMs = instant(body.from, 'from') ?? toMs - WEEK_MS;
    if (body.labels !== undefined && typeof body.labels !== 'string')
      throw new BadRequestException('labels: expected CSV text (device,start,end)');
    let labels;
    try {
      labels = body.labels === undefined ? undefined : parseFaultIntervals(body.labels);
    } catch (error) {
      throw new BadRequestException((error as Error).message);
    }
    return this.rescores.compare({ fromMs, toMs, devices: devices(body.devices) }, labels);
  }

  @Get()
  list(): Promise<ReplayProgress[]> {
    return this.replays.list();
  }

  @Get('versions')
  listVersions(): Promise<VersionStatus[]> {
    return this.versions.status();
  }

  /** Starts a rebuild of `family`; with `dryRun: true` returns the plan (records per partition, duration). */
  @Post()
  @HttpCode(202)
  start(@Body() body: StartBody): Promise<ReplayProgress | ReplayPlan> {
    const request = {
      family: family(body.family),
      fromMs: instant(body.from, 'from'),
      toMs: instant(body.to, 'to'),
      devices: devices(body.devices),
      swap: body.swap === undefined ? undefined : body.swap === true,
    };
    return this.guard<ReplayProgress | ReplayPlan>(
      body.dryRun === true ? this.replays.plan(request) : this.replays.startProjection(request),
    );
  }

  @Post(':id/pause')
  pause(@Param('id') id: string): Promise<ReplayProgress> {
    return this.guard(this.replays.pause(id));
  }

  @Post(':id/resume')
  resume(@Param('id') id: string): Promise<ReplayProgress> {
    return this.guard(this.replays.resume(id));
  }

  @Post(':id/cancel')
  cancel(@Param('id') id: string): Promise<ReplayProgress> {
    return this.guard(this.replays.cancel(id));
  }

  @Post('rollback/:family')
  @HttpCode(202)
  rollback(@Param('family') name: string): Promise<ReplayProgress> {
    return this.guard(this.replays.rollback(family(name)));
  }

  @Delete('versions/:family/:version')
  async drop(@Param('family') name: string, @Param('version') version: string): Promise<{ dropped: number }> {
    const n = Number(version);
    if (!Number.isInteger(n) || n < 1) throw new BadRequestException('version: expected a whole number >= 1');
    await this.guard(this.versions.drop(family(name), n));
    return { dropped: n };
  }

  /** The services throw plain errors with operator-facing messages: refusals become 409/404, not 500. */
  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      const message = (error as Error).message;
      if (/^no replay|has no version/.test(message)) throw new NotFoundException(message);
      if (
        /is running|is live|cannot be resumed|no previous version|was dropped|is not running|is (done|cancelled)|partial build|another range/.test(
          message,
        )
      )
        throw new BadRequestException(message);
      throw error;
    }
  }
}

function family(value: unknown): ProjectionFamily {
  if (typeof value !== 'string' || !isProjectionFamily(value))
    throw new BadRequestException(`family: expected one of ${Object.keys(PROJECTION_FAMILIES).join(', ')}`);
  return value;
}

function instant(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms))
    throw new BadRequestException(`${field}: expected an ISO-8601 instant or epoch ms`);
  return ms;
}

function devices(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((d) => typeof d === 'string' && d.length > 0))
    throw new BadRequestException('devices: expected an array of device ids');
  return value as string[];
}
