import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** `bulk_operations`: a requested bulk operation, as its jobs need it (what, with what, by whom). */
@Entity({ name: 'bulk_operations' })
export class BulkOperationEntity {
  @PrimaryColumn({ name: 'operation_id', type: 'uuid' })
  operationId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'operation', type: 'text' })
  operation!: string;

  @Column({ name: 'message', type: 'text', nullable: true })
  message!: string | null;

  @Column({ name: 'method', type: 'text', nullable: true })
  method!: string | null;

  @Column({ name: 'actor', type: 'text' })
  actor!: string;
}

/**
 * `bulk_jobs`: one changeset's job of a bulk operation, a work queue with leases. `started` is
 * set before a code host write and never cleared: a job found started after a crash is not
 * written again where that could act twice (a comment).
 */
@Entity({ name: 'bulk_jobs' })
@Index('bulk_jobs_due_idx', ['dueAt'], { where: 'NOT finished' })
export class BulkJobEntity {
  @PrimaryColumn({ name: 'operation_id', type: 'uuid' })
  operationId!: string;

  @PrimaryColumn({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'head_branch', type: 'text' })
  headBranch!: string;

  @Column({ name: 'finished', type: 'boolean', default: false })
  finished!: boolean;

  @Column({ name: 'started', type: 'boolean', default: false })
  started!: boolean;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'due_at', type: 'timestamptz' })
  dueAt!: Date;

  @Column({ name: 'leased_by', type: 'text', nullable: true })
  leasedBy!: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;
}
