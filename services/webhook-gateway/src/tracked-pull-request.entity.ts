import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A row of the tracked_pull_requests projection: a pull request a campaign's changeset owns,
 * with what the events say it shows (null: not said yet).
 */
@Entity({ name: 'tracked_pull_requests' })
@Index('tracked_pull_requests_head', ['repository', 'headRefOid'])
export class TrackedPullRequestEntity {
  /** Host-qualified, e.g. `github.com/acme/api`. */
  @PrimaryColumn({ name: 'repository', type: 'text' })
  repository!: string;

  @PrimaryColumn({ name: 'number', type: 'integer' })
  number!: number;

  @Column({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'head_branch', type: 'text' })
  headBranch!: string;

  @Column({ name: 'head_ref_oid', type: 'text', nullable: true })
  headRefOid!: string | null;

  @Column({ name: 'url', type: 'text', nullable: true })
  url!: string | null;

  @Column({ name: 'title', type: 'text', nullable: true })
  title!: string | null;

  @Column({ name: 'state', type: 'text', nullable: true })
  state!: string | null;

  @Column({ name: 'draft', type: 'boolean', nullable: true })
  draft!: boolean | null;
}
