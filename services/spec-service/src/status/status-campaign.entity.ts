import type { Problem } from '@campaigns/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `status_campaigns`: each campaign's current application and how its resolution went. */
@Entity({ name: 'status_campaigns' })
export class StatusCampaign {
  @PrimaryColumn({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'apply_id', type: 'uuid' })
  applyId!: string;

  @Column({ name: 'spec_hash', type: 'text' })
  specHash!: string;

  @Column({ name: 'actor', type: 'text' })
  actor!: string;

  @Column({ name: 'applied_at', type: 'timestamptz' })
  appliedAt!: Date;

  @Column({ name: 'resolved', type: 'boolean' })
  resolved!: boolean;

  @Column({ name: 'resolution_error', type: 'text', nullable: true })
  resolutionError!: string | null;

  @Column({ name: 'problems', type: 'jsonb' })
  problems!: Problem[];

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  /** How many workspaces the application resolved to; null until it resolved (migration 3). */
  @Column({ name: 'workspace_count', type: 'integer', nullable: true })
  workspaceCount!: number | null;

  /** When `campaign close` closed it (migration 6); null while open. */
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Column({ name: 'closed_by', type: 'text', nullable: true })
  closedBy!: string | null;
}
