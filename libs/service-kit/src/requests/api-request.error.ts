import type { ApiError } from '@campaigns/contracts';
import { RpcException } from '@nestjs/microservices';

/**
 * A request the service refuses, with the API error its caller gets (`{ ok: false, error }`).
 * Thrown from `@MessagePattern` handlers and pipes; anything else a handler throws is answered
 * as `internal` and logged.
 */
export class ApiRequestError extends RpcException {
  constructor(readonly apiError: ApiError) {
    super(apiError);
  }
}

/** `invalid-request`: the request is not what the verb expects. */
export const invalidRequest = (message: string): ApiRequestError =>
  new ApiRequestError({ code: 'invalid-request', message });

/** `unauthenticated`: no credential, or one the service does not accept. Nothing was done. */
export const unauthenticated = (message: string): ApiRequestError =>
  new ApiRequestError({ code: 'unauthenticated', message: `not authenticated: ${message}` });

/** `forbidden`: the caller is known but may not do this. Nothing was done. */
export const forbidden = (message: string): ApiRequestError =>
  new ApiRequestError({ code: 'forbidden', message: `not allowed: ${message}` });
