import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { ApiKeysService } from './api-keys.service.js';
import { JWT_STRATEGY } from './jwt.strategy.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { roleAdmits, type Role } from '../common/role.type.js';
import { PUBLIC_KEY, ROLES_KEY, type PublicWhen } from '../common/roles.decorator.js';
import type { QueryApiConfig } from '../query-api.config.js';
import { QUERY_API_CONFIG } from '../query-api.tokens.js';

/**
 * Operational routes of @sentio/observability, which cannot carry our decorator: probes and Prometheus
 * scrape them without credentials. They show no data of the plant.
 */
export const OPERATIONAL_ROUTES: ReadonlySet<string> = new Set(['/health', '/metrics']);

/** Set on the request of a GraphQL subscription, whose socket was authenticated when it connected. */
export const SOCKET_AUTHENTICATED = Symbol('SocketAuthenticated');

/**
 * The process-wide guard: every HTTP route and GraphQL resolver needs a valid access token (or an
 * `x-api-key` of a machine client) and a role the route admits, unless it is @Public. A route that declares
 * neither is denied to everyone, so forgetting the decorator fails closed.
 */
@Injectable()
export class AccessGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(QUERY_API_CONFIG) private readonly config: QueryApiConfig,
  ) {
    super();
  }

  override getRequest(context: ExecutionContext): Request {
    return context.getType<string>() === 'graphql'
      ? GqlExecutionContext.create(context).getContext<{ req: Request }>().req
      : context.switchToHttp().getRequest<Request>();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const open = this.reflector.getAllAndOverride<PublicWhen | undefined>(PUBLIC_KEY, targets);
    if (open === 'always' || (open === 'introspection' && this.config.introspection)) return true;
    if (context.getType() === 'http') {
      const route = (context.switchToHttp().getRequest<Request>().route as { path?: string } | undefined)
        ?.path;
      if (route !== undefined && OPERATIONAL_ROUTES.has(route)) return true;
    }
    const req = this.getRequest(context) as Request & { [SOCKET_AUTHENTICATED]?: boolean };
    // A subscription's socket was authenticated by onConnect; req.user is that connection's user.
    if (!req[SOCKET_AUTHENTICATED]) {
      const apiKey = req.headers['x-api-key'];
      if (typeof apiKey === 'string') {
        const client = await this.apiKeys.authenticate(apiKey);
        if (!client) throw new UnauthorizedException('invalid or revoked API key');
        req.user = client;
      } else {
        await super.canActivate(context);
      }
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    const user = req.user as AuthenticatedUser;
    if (!roles || !roleAdmits(roles, user.role)) throw new ForbiddenException('your role may not do this');
    return true;
  }
}
