import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A row of `reconcile_queue`: a changeset that needs a round. The projection writes when it is
 * due; the worker (executor/reconcile-queue.ts) leases, renews and releases it.
 */
@Entity({ name: 'reconcile_queue' })
@Index('reconcile_queue_due_at_idx', ['dueAt'])
export class ReconcileQueueEntry {
  @PrimaryColumn({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'due_at', type: 'timestamptz' })
  dueAt!: Date;

  /** The stream version that made it due (a bigint, read as a string). */
  @Column({ name: 'due_version', type: 'bigint' })
  dueVersion!: string;

  @Column({ name: 'reason', type: 'text' })
  reason!: string;

  /** A version the projection must reach before the next claim (a bigint, read as a string). */
  @Column({ name: 'wait_version', type: 'bigint', default: 0 })
  waitVersion!: string;

  @Column({ name: 'leased_by', type: 'text', nullable: true })
  leasedBy!: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;
}
