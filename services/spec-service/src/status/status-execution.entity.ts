import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** `status_executions`: one execution of an application, as its events left it. */
@Entity({ name: 'status_executions' })
@Index('status_executions_page', ['campaign', 'applyId', 'repository', 'path'])
export class StatusExecution {
  @PrimaryColumn({ name: 'execution_id', type: 'text' })
  executionId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'apply_id', type: 'uuid' })
  applyId!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  /** Null in rows projected before it was recorded. */
  @Column({ name: 'branch', type: 'text', nullable: true })
  branch!: string | null;

  @Column({ name: 'path', type: 'text' })
  path!: string;

  @Column({ name: 'state', type: 'text' })
  state!: string;

  @Column({ name: 'message', type: 'text', nullable: true })
  message!: string | null;

  @Column({ name: 'stderr_tail', type: 'text', nullable: true })
  stderrTail!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
