import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** `status_changesets`: a changeset's desired state, publication and state on the code host. */
@Entity({ name: 'status_changesets' })
@Index('status_changesets_page', ['campaign', 'repository', 'headBranch'])
export class StatusChangeset {
  @PrimaryColumn({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'head_branch', type: 'text' })
  headBranch!: string;

  /** The workspace's path in the repository ('' its root); null when not known (older events). */
  @Column({ name: 'workspace_path', type: 'text', nullable: true })
  workspacePath!: string | null;

  @Column({ name: 'wanted', type: 'boolean' })
  wanted!: boolean;

  @Column({ name: 'published', type: 'text' })
  published!: string;

  @Column({ name: 'spec_event_id', type: 'uuid' })
  specEventId!: string;

  @Column({ name: 'reconciled_spec_event_id', type: 'uuid', nullable: true })
  reconciledSpecEventId!: string | null;

  @Column({ name: 'host_state', type: 'text', nullable: true })
  hostState!: string | null;

  @Column({ name: 'draft', type: 'boolean' })
  draft!: boolean;

  @Column({ name: 'checks', type: 'text', nullable: true })
  checks!: string | null;

  @Column({ name: 'review', type: 'text', nullable: true })
  review!: string | null;

  @Column({ name: 'url', type: 'text', nullable: true })
  url!: string | null;

  @Column({ name: 'number', type: 'integer', nullable: true })
  number!: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'error_terminal', type: 'boolean' })
  errorTerminal!: boolean;

  /** Waiting for a publication slot: when it is expected (ISO 8601; '' none within a week). */
  @Column({ name: 'scheduled_for', type: 'text', nullable: true })
  scheduledFor!: string | null;

  /** From its ChangesetSpecComputed; null for imported changesets. */
  @Column({ name: 'title', type: 'text', nullable: true })
  title!: string | null;

  @Column({ name: 'base_branch', type: 'text', nullable: true })
  baseBranch!: string | null;

  @Column({ name: 'files_changed', type: 'integer', nullable: true })
  filesChanged!: number | null;

  @Column({ name: 'diff_sha256', type: 'text', nullable: true })
  diffSha256!: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
