import { describeInvalid } from '@campaigns/contracts';
import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { invalidRequest } from './api-request.error.js';

/**
 * Validates a request payload with its contract's zod schema: `@Payload(new ZodPayloadPipe(s))`.
 * A payload that does not match is refused as `invalid-request`, naming the first problem.
 */
export class ZodPayloadPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw invalidRequest(describeInvalid(parsed.error));
    return parsed.data;
  }
}
