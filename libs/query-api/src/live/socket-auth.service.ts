import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Request } from 'express';
import type { Context } from 'graphql-ws';
import { SOCKET_AUTHENTICATED } from '../auth/access.guard.js';
import { AuthService, type AccessTokenClaims } from '../auth/auth.service.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';

/** What one WebSocket connection carries from its handshake to each of its subscriptions. */
export interface SocketSession {
  user: AuthenticatedUser;
  subscriptions: number;
}

type SocketExtra = { session?: SocketSession };
export type SocketContext = Context<Record<string, unknown> | undefined, SocketExtra>;

/**
 * Authenticates GraphQL WebSocket connections with the same access tokens as HTTP, sent in the
 * connection_init payload (`{ authorization: 'Bearer …' }`). GraphQLModule's options are fixed before
 * injection exists, so they hold this gate and the service below opens it once it can verify tokens.
 */
export class SocketGate {
  private verify?: (token: string) => Promise<AuthenticatedUser | undefined>;

  open(verify: (token: string) => Promise<AuthenticatedUser | undefined>): void {
    this.verify = verify;
  }

  /** graphql-ws onConnect: false closes the socket with 4403 Forbidden before any operation runs. */
  async onConnect(ctx: SocketContext): Promise<boolean> {
    const header = ctx.connectionParams?.['authorization'];
    const token = typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header)?.[1] : undefined;
    const user = token && this.verify ? await this.verify(token) : undefined;
    if (!user) return false;
    ctx.extra.session = { user, subscriptions: 0 };
    return true;
  }

  /**
   * The GraphQL context of both transports: HTTP requests keep their request (the guard authenticates it),
   * socket operations get a request standing for the connection's already authenticated user.
   */
  static context(arg: { req?: Request } | SocketContext): object {
    if ('req' in arg && arg.req) return { req: arg.req };
    const session = (arg as SocketContext).extra?.session;
    return { req: { user: session?.user, [SOCKET_AUTHENTICATED]: session !== undefined }, session };
  }
}

@Injectable()
export class SocketAuthService {
  constructor(
    @Inject(SocketGate) gate: SocketGate,
    @Inject(JwtService) private readonly jwt: JwtService,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {
    gate.open((token) => this.verify(token));
  }

  private async verify(token: string): Promise<AuthenticatedUser | undefined> {
    try {
      const claims = await this.jwt.verifyAsync<AccessTokenClaims>(token, { algorithms: ['HS256'] });
      return await this.auth.authenticate(claims);
    } catch {
      return undefined;
    }
  }
}
