import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { HttpResponse } from '../ui-files.controller.js';
import { InvalidInput } from './query-params.js';
import { SpecServiceRefused, SpecServiceUnavailable } from './spec-service-api.js';

/** The HTTP status of each error code of spec-service's API. */
const STATUS_OF_API_ERROR: Record<string, number> = {
  'invalid-request': 400,
  'invalid-spec': 400,
  'not-found': 404,
  unauthenticated: 401,
  forbidden: 403,
  unavailable: 503,
  internal: 500,
};

/**
 * Answers what went wrong with the status a browser understands and one line: bad input 400,
 * what spec-service refused by its error code (an unknown campaign 404), spec-service not
 * answering 503. Nest answers the rest (its HttpExceptions; anything else 500, no stack).
 */
@Catch(InvalidInput, SpecServiceRefused, SpecServiceUnavailable)
export class DashboardErrorFilter implements ExceptionFilter {
  catch(error: InvalidInput | SpecServiceRefused | SpecServiceUnavailable, host: ArgumentsHost) {
    const status =
      error instanceof InvalidInput
        ? 400
        : error instanceof SpecServiceRefused
          ? (STATUS_OF_API_ERROR[error.code] ?? 500)
          : 503;
    host
      .switchToHttp()
      .getResponse<HttpResponse>()
      .status(status)
      .json({ statusCode: status, message: error.message });
  }
}
