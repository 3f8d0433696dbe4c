import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A job the dispatcher published (executor_service.dispatched_executions), for operators. */
@Entity({ name: 'dispatched_executions' })
export class DispatchedExecution {
  @PrimaryColumn({ name: 'execution_id', type: 'text' })
  executionId!: string;

  /** The ExecutionQueued event the job stands for. */
  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'apply_id', type: 'uuid' })
  applyId!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'queued_at', type: 'timestamptz' })
  queuedAt!: Date;
}
