import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Lets whatever an `@EventPattern` handler throws reach its consumer as it is, so the batch's
 * transaction rolls back and the consumer retries it, then dead-letters it with the real error.
 * (Nest's default would turn it into `{ status: 'error', message: 'Internal server error' }`.)
 */
@Catch()
export class EventErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
