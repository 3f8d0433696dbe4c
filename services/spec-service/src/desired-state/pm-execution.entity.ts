import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `pm_executions`: an execution queued; whether its patch was handled (or failed to render). */
@Entity({ name: 'pm_executions' })
export class PmExecution {
  @PrimaryColumn({ name: 'execution_id', type: 'text' })
  executionId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'apply_id', type: 'uuid' })
  applyId!: string;

  @Column({ name: 'handled', type: 'boolean', default: false })
  handled!: boolean;

  @Column({ name: 'render_error', type: 'text', nullable: true })
  renderError!: string | null;
}
