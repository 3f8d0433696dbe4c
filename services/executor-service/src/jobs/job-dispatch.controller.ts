import {
  EventErrorFilter,
  type ProjectionBatch,
  type ProjectionBinding,
  type ProjectionEvents,
} from '@campaigns/service-kit';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';

/** Injection token of the job dispatcher's ProjectionBinding (`jobDispatcherBinding`). */
export const JOB_DISPATCHER = Symbol('JobDispatcherProjection');

/**
 * ExecutionQueued → a job on the work queue, exactly once per event: an `@EventPattern` handler
 * served by the service kit's JetStreamEventServer.
 */
@Controller()
@UseFilters(EventErrorFilter)
export class JobDispatchController {
  constructor(@Inject(JOB_DISPATCHER) private readonly dispatcher: ProjectionBinding) {}

  @EventPattern<ProjectionEvents>('job_dispatcher', { binding: JOB_DISPATCHER })
  executionEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    return this.dispatcher.projection.handle(events, context);
  }
}
