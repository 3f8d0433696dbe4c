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
