import { createParamDecorator, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { credentialOf } from './credential.js';

interface HttpRequestHeaders {
  headers: { authorization?: string; cookie?: string };
}

/**
 * The caller's access token, for a handler to forward to spec-service; a request without one
 * is answered 401 before the handler runs.
 */
export const Credential = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<HttpRequestHeaders>();
  const token = credentialOf(request.headers);
  if (token === undefined) throw new UnauthorizedException('not signed in');
  return token;
});
