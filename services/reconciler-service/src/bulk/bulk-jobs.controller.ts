import {
  EventErrorFilter,
  type ProjectionBatch,
  type ProjectionBinding,
  type ProjectionEvents,
} from '@campaigns/service-kit';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BULK_JOBS_PROJECTION } from './bulk-jobs.projection.js';

/** Injection token of the bulk jobs projection's ProjectionBinding. */
export const BULK_JOBS = Symbol('BulkJobsProjection');

/** The bulk processor's work queue (bulkJobsProjection) as an `@EventPattern` handler. */
@Controller()
@UseFilters(EventErrorFilter)
export class BulkJobsController {
  constructor(@Inject(BULK_JOBS) private readonly jobs: ProjectionBinding) {}

  @EventPattern<ProjectionEvents>(BULK_JOBS_PROJECTION, { binding: BULK_JOBS })
  bulkEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    return this.jobs.projection.handle(events, context);
  }
}
