import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthService, type AccessTokenClaims } from './auth.service.js';
import type { AuthenticatedUser } from '../common/authenticated-user.type.js';
import { JWT_SECRET } from '../query-api.tokens.js';

export const JWT_STRATEGY = 'sentio-jwt';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    @Inject(JWT_SECRET) secret: string,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secret,
      algorithms: ['HS256'],
      ignoreExpiration: false,
    });
  }

  /** Passport turns a falsy result into 401. */
  async validate(claims: AccessTokenClaims): Promise<AuthenticatedUser | false> {
    return (await this.auth.authenticate(claims)) ?? false;
  }
}
