import type { ChangesetSpecData } from '@campaigns/events';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** `pm_changesets`: the desired state the process manager last recorded for a changeset. */
@Entity({ name: 'pm_changesets' })
@Index('pm_changesets_campaign_repository_idx', ['campaign', 'repository'])
export class PmChangeset {
  @PrimaryColumn({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'head_branch', type: 'text' })
  headBranch!: string;

  /** The branch its workspace runs on (its base branch); null for rows recorded without a spec. */
  @Column({ name: 'workspace_branch', type: 'text', nullable: true })
  workspaceBranch!: string | null;

  @Column({ name: 'workspace_path', type: 'text' })
  workspacePath!: string;

  @Column({ name: 'removed', type: 'boolean' })
  removed!: boolean;

  /** Null once removed. */
  @Column({ name: 'spec', type: 'jsonb', nullable: true })
  spec!: ChangesetSpecData | null;

  @Column({ name: 'last_event_id', type: 'uuid' })
  lastEventId!: string;

  /** `importChangesets`: the pull request's number; null for changesets a workspace renders. */
  @Column({ name: 'import_number', type: 'integer', nullable: true })
  importNumber!: number | null;
}
