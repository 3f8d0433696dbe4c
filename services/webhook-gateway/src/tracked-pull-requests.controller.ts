import {
  EventErrorFilter,
  type ProjectionBatch,
  type ProjectionBinding,
  type ProjectionEvents,
} from '@campaigns/service-kit';
import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { trackedPullRequestsProjection } from './tracked-pull-requests.projection.js';

/** Injection token of the tracked pull requests' ProjectionBinding. */
export const TRACKED_PULL_REQUESTS = Symbol('TrackedPullRequestsProjection');

export const trackedPullRequestsBinding: ProjectionBinding = {
  projection: trackedPullRequestsProjection,
};

/**
 * Which pull requests the gateway records webhooks for, and what the events say each shows: an
 * `@EventPattern` handler served by the service kit's JetStreamEventServer.
 */
@Controller()
@UseFilters(EventErrorFilter)
export class TrackedPullRequestsController {
  @EventPattern<ProjectionEvents>(trackedPullRequestsProjection.name, {
    binding: TRACKED_PULL_REQUESTS,
  })
  changesetEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    return trackedPullRequestsProjection.handle(events, context);
  }
}
