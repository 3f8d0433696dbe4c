import {
  EventErrorFilter,
  type ProjectionBatch,
  type ProjectionBinding,
  type ProjectionEvents,
} from '@campaigns/service-kit';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { PROCESS_MANAGER_NAME } from '../desired-state/process-manager.js';
import { STATUS_PROJECTION_NAME } from '../status/status-projection.js';

/** Injection token of the desired-state process manager's ProjectionBinding. */
export const DESIRED_STATE = Symbol('DesiredStateProjection');
/** Injection token of the status projection's ProjectionBinding. */
export const CAMPAIGN_STATUS = Symbol('CampaignStatusProjection');

/**
 * spec-service's consumers of the event log, as `@EventPattern` handlers served by the service
 * kit's JetStreamEventServer (one durable consumer each, in this order: the process manager
 * first). Each batch arrives with its consumer's transaction; the projection's own `handle`
 * (what replay runs too) does the work.
 */
@Controller()
@UseFilters(EventErrorFilter)
export class ProjectionsController {
  constructor(
    @Inject(DESIRED_STATE) private readonly desiredState: ProjectionBinding,
    @Inject(CAMPAIGN_STATUS) private readonly status: ProjectionBinding,
  ) {}

  /** SpecApplied → workspaces and executions; PatchComputed → changeset specs. */
  @EventPattern<ProjectionEvents>(PROCESS_MANAGER_NAME, { binding: DESIRED_STATE })
  desiredStateEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    return this.desiredState.projection.handle(events, context);
  }

  /** Every campaign, execution and changeset event → the status read model. */
  @EventPattern<ProjectionEvents>(STATUS_PROJECTION_NAME, { binding: CAMPAIGN_STATUS })
  statusEvents(@Payload() { events, context }: ProjectionBatch): Promise<void> {
    return this.status.projection.handle(events, context);
  }
}
