import { BadRequestException, HttpException, HttpStatus, Inject, UsePipes } from '@nestjs/common';
import { Args, Context, Resolver, Subscription } from '@nestjs/graphql';
import { Roles } from '../common/roles.decorator.js';
import { apiValidationPipe } from '../common/api-validation.pipe.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';
import { AnomalyDto } from '../query/detections.dto.js';
import type { LiveChannel } from './live-channel.util.js';
import { LiveFeed } from './live-feed.service.js';
import { DeviceTelemetryDto, LifecycleChangeDto, LiveFilterDto } from './live.dto.js';
import type { SocketSession } from './socket-auth.service.js';

const asIs = <T>(payload: T) => payload;

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
    return this.open(this.feed.telemetry, args, session);
  }

  @Subscription(() => AnomalyDto, { resolve: asIs })
  anomalies(@Args() args: LiveFilterDto, @Context('session') session?: SocketSession) {
    return this.open(this.feed.anomalies, args, session);
  }

  @Subscription(() => LifecycleChangeDto, { resolve: asIs })
  lifecycle(@Args() args: LiveFilterDto, @Context('session') session?: SocketSession) {
    return this.open(this.feed.lifecycle, args, session);
  }

  private open<T extends { deviceId: string }>(
    channel: LiveChannel<T>,
    { device }: LiveFilterDto,
    session: SocketSession | undefined,
  ): AsyncIterableIterator<T> {
    if (!session) throw new BadRequestException('subscriptions need the graphql-ws WebSocket transport');
    const max = this.config.live.maxSubscriptionsPerClient;
    if (session.subscriptions >= max) {
      throw new HttpException(
        { statusCode: 429, message: `at most ${max} subscriptions per connection` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    session.subscriptions++;
    return channel.subscribe(
      (event) => device === undefined || event.deviceId === device,
      () => session.subscriptions--,
    );
  }
}
