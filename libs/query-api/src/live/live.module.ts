import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { LiveFeed } from './live-feed.service.js';
import { LiveResolver } from './live.resolver.js';
import { SocketAuthService } from './socket-auth.service.js';

/** GraphQL subscriptions fed from Kafka; sockets are authenticated with the access tokens of AuthModule. */
@Module({
  imports: [AuthModule],
  providers: [LiveFeed, LiveResolver, SocketAuthService],
})
export class LiveModule {}
