import {
  EventErrorFilter,
  type ProjectionBatch,
  type ProjectionBinding,
  type ProjectionEvents,
} from '@campaigns/service-kit';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { CHANGESET_PROJECTION } from './changeset-projection.js';

/** Injection token of the changeset projection's ProjectionBinding. */
export const CHANGESETS = Symbol('ChangesetsProjection');

/**
 * The changeset projection (desired and actual state, the reconcile queue) as an `@EventPattern`
 * handler, served by the service kit's JetStreamEventServer.
 */
@Controller()
@UseFilters(EventErrorFilter)
export class ChangesetsController {
  constructor(@Inject(CHANGESETS) private readonly changesets: ProjectionBinding) {}

  @EventPattern<ProjectionEvents>(CHANGESET_PROJECTION, { binding: CHANGESETS })
  changesetEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    return this.changesets.projection.handle(events, context);
  }
}
