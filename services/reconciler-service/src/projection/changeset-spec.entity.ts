import type { ChangesetSpecData } from '@campaigns/events';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { RecordedSpec } from '../changeset/changeset-row.js';

/** A row of `changeset_specs`: one spec event's desired state and metadata (a RecordedSpec). */
@Entity({ name: 'changeset_specs' })
@Index('changeset_specs_changeset_id_idx', ['changesetId'])
export class ChangesetSpecEntity implements RecordedSpec {
  @PrimaryColumn({ name: 'spec_event_id', type: 'uuid' })
  specEventId!: string;

  @Column({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'head_branch', type: 'text' })
  headBranch!: string;

  /** Null for ChangesetSpecRemoved and ChangesetImportRequested. */
  @Column({ name: 'spec', type: 'jsonb', nullable: true })
  spec!: ChangesetSpecData | null;

  /** ChangesetImportRequested: the pull request's number; null for every other spec event. */
  @Column({ name: 'import_number', type: 'integer', nullable: true })
  importNumber!: number | null;

  @Column({ name: 'correlation_id', type: 'text' })
  correlationId!: string;

  @Column({ name: 'actor', type: 'text' })
  actor!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}
