import type { ApiError } from '@campaigns/contracts';
import { Catch, Inject, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import { describeError } from '../logging/describe-error.js';
import { SERVICE_CONTEXT, type ServiceContext } from '../service/service-definition.js';
import { ApiRequestError } from './api-request.error.js';

/**
 * Turns whatever a request handler throws into the API error its caller gets: an ApiRequestError
 * as it is, anything else as `internal` (logged, with the message but never a stack trace in
 * the reply). NatsRequestServer answers it as `{ ok: false, error }`. Put it on every
 * controller with `@MessagePattern` handlers: `@UseFilters(ApiExceptionFilter)`.
 */
@Catch()
export class ApiExceptionFilter implements RpcExceptionFilter<unknown> {
  constructor(@Inject(SERVICE_CONTEXT) private readonly context: ServiceContext) {}

  catch(exception: unknown): Observable<never> {
    if (exception instanceof ApiRequestError) return throwError(() => exception.apiError);
    const message = describeError(exception);
    this.context.logger.error({ reason: message }, 'request failed');
    const error: ApiError = {
      code: 'internal',
      message: `${this.context.service} failed: ${message}`,
    };
    return throwError(() => error);
  }
}
