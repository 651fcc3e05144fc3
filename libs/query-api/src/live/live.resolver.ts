import { BadRequestException, HttpException, HttpStatus, Inject, UsePipes } from '@nestjs/common';
import { Args, Context, Resolver, Subscription } from '@nestjs/graphql';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import type { LiveChannel } from './live-channel.util.js';
import { LiveFeed, type Positioned } from './live-feed.service.js';
import { parseCursor, ResumeNotCoveredError, type ReplayLog } from './live-replay.util.js';
import { DeviceTelemetryDto, LifecycleChangeDto, LiveAnomalyDto, LiveFilterDto } from './live.dto.js';
import type { SocketSession } from './socket-auth.service.js';

const asIs = <T>(payload: T) => payload;
const dtoOf = <D>(payload: Positioned<D>) => payload.dto;

/** Live events over graphql-ws; each connection may hold a bounded number of subscriptions. */
@Resolver()
@Roles('viewer')
@UsePipes(apiValidationPipe)
export class LiveResolver {
  constructor(
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
    @Inject(LiveFeed) private readonly feed: LiveFeed,
  ) {}

  @Subscription(() => DeviceTelemetryDto, {
    resolve: asIs,
    description: 'Latest values per device, at most once per interval per device.',
  })
  telemetry(@Args() args: LiveFilterDto, @Context('session') session?: SocketSession) {
    if (args.after !== undefined)
      throw new BadRequestException('after: telemetry is conflated (newest values), it does not resume');
    this.admit(session);
    const { device } = args;
    return this.feed.telemetry.subscribe(
      (event) => device === undefined || event.deviceId === device,
      () => session!.subscriptions--,
    );
  }

  @Subscription(() => LiveAnomalyDto, { resolve: dtoOf })
  anomalies(@Args() args: LiveFilterDto, @Context('session') session?: SocketSession) {
    return this.resumable(this.feed.anomalies, this.feed.anomalyLog, args, session);
  }

  @Subscription(() => LifecycleChangeDto, { resolve: dtoOf })
  lifecycle(@Args() args: LiveFilterDto, @Context('session') session?: SocketSession) {
    return this.resumable(this.feed.lifecycle, this.feed.lifecycleLog, args, session);
  }

  /** A discrete channel: from now, or (with `after`) the missed events first, then live ones. */
  private resumable<D extends { deviceId: string }>(
    channel: LiveChannel<Positioned<D>>,
    log: ReplayLog<Positioned<D>>,
    { device, after }: LiveFilterDto,
    session: SocketSession | undefined,
  ): AsyncIterableIterator<Positioned<D>> {
    let cursor: Map<number, bigint> | undefined;
    try {
      cursor = after === undefined ? undefined : parseCursor(after);
    } catch (error) {
      throw new BadRequestException((error as Error).message);
    }
    const resumption = cursor ? log.resume(cursor) : undefined;
    const conflict = (e: ResumeNotCoveredError) =>
      new HttpException(
        { statusCode: HttpStatus.CONFLICT, code: e.code, message: e.message },
        HttpStatus.CONFLICT,
      );
    if (resumption instanceof ResumeNotCoveredError) throw conflict(resumption);
    this.admit(session);
    const mine = (e: Positioned<D>) => device === undefined || e.dto.deviceId === device;
    return channel.subscribe(
      (e) => {
        const verdict = resumption ? resumption.accepts(e.partition, e.offset) : true;
        if (verdict instanceof ResumeNotCoveredError) return conflict(verdict);
        return verdict === true && mine(e);
      },
      () => session!.subscriptions--,
      resumption?.replay.filter(mine) ?? [],
    );
  }

  private admit(session: SocketSession | undefined): asserts session is SocketSession {
    if (!session) throw new BadRequestException('subscriptions need the graphql-ws WebSocket transport');
    const max = this.config.live.maxSubscriptionsPerClient;
    if (session.subscriptions >= max) {
      throw new HttpException(
        { statusCode: 429, message: `at most ${max} subscriptions per connection` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    session.subscriptions++;
  }
}
