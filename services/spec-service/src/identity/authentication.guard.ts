import { AUTHORIZATION_HEADER } from '@campaigns/contracts';
import { unauthenticated } from '@campaigns/service-kit';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { bearerToken } from './access-tokens.js';
import { rememberCaller } from './caller.js';
import { IdentityStore } from './identity-store.js';

/**
 * The one place a request's credential is checked: `@UseGuards(AuthenticationGuard)` on every
 * controller with `@MessagePattern` handlers. It reads `Authorization: Bearer cmp_…` from the
 * NATS headers and looks the token's hash up on every request (no cache, so a revocation is
 * effective at the next request); an unknown or revoked token is refused as `unauthenticated`
 * before the request is even parsed. Handlers take the caller with `@CallerOf()`.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(@Inject(IdentityStore) private readonly identities: IdentityStore) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const headers = context.switchToRpc().getContext<NatsContext>().getHeaders() as
      { get(name: string): string } | undefined;
    const bearer = bearerToken(headers?.get(AUTHORIZATION_HEADER) || undefined);
    if ('problem' in bearer) throw unauthenticated(bearer.problem);
    const caller = await this.identities.authenticate(bearer.token);
    if (!caller)
      throw unauthenticated(
        'the access token is unknown or revoked; ask a site admin for a new one (campaign admin tokens create USER)',
      );
    rememberCaller(context, caller);
    return true;
  }
}
