import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

// The recorder's memory of what deliveries reported (migration 3 of webhook-gateway): written
// with raw set-based statements (recorder-state.ts), declared here so the schema has one
// description and tests and tools can read the rows.

/** The newest pull request state recorded from a delivery. */
@Entity({ name: 'pull_request_versions' })
export class PullRequestVersion {
  @PrimaryColumn({ type: 'text' })
  repository!: string;

  @PrimaryColumn({ type: 'integer' })
  number!: number;

  /** The payload's pull_request.updated_at. */
  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'head_ref_oid', type: 'text', nullable: true })
  headRefOid!: string | null;

  /** The head this one replaced: a delivery of the same moment naming it is older. */
  @Column({ name: 'replaced_head', type: 'text', nullable: true })
  replacedHead!: string | null;
}

/** One reviewer's latest decisive review of a pull request. */
@Entity({ name: 'pull_request_reviews' })
export class PullRequestReview {
  @PrimaryColumn({ type: 'text' })
  repository!: string;

  @PrimaryColumn({ type: 'integer' })
  number!: number;

  @PrimaryColumn({ type: 'text' })
  reviewer!: string;

  /** APPROVED, CHANGES_REQUESTED or DISMISSED. */
  @Column({ type: 'text' })
  state!: string;

  @Column({ name: 'report_order', type: 'double precision', array: true })
  reportOrder!: number[];
}

/** The latest report of one status context, check run or check suite of a commit. */
@Entity({ name: 'commit_checks' })
export class CommitCheck {
  @PrimaryColumn({ type: 'text' })
  repository!: string;

  @PrimaryColumn({ name: 'head_sha', type: 'text' })
  headSha!: string;

  /** status, check_run or check_suite. */
  @PrimaryColumn({ type: 'text' })
  kind!: string;

  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ name: 'suite_id', type: 'bigint', nullable: true })
  suiteId!: string | null;

  /** SUCCESS, FAILURE, PENDING or ERROR. */
  @Column({ type: 'text' })
  state!: string;

  @Column({ name: 'report_order', type: 'double precision', array: true })
  reportOrder!: number[];
}

/** A delivery about a pull request no changeset tracked yet, held until one does or it expires. */
@Entity({ name: 'parked_deliveries' })
@Index('parked_deliveries_number', ['repository', 'number'])
@Index('parked_deliveries_head', ['repository', 'headSha'])
@Index('parked_deliveries_expires', ['expiresAt'])
export class ParkedDelivery {
  @PrimaryColumn({ name: 'delivery_id', type: 'text' })
  deliveryId!: string;

  @Column({ type: 'text' })
  repository!: string;

  @Column({ type: 'integer', nullable: true })
  number!: number | null;

  @Column({ name: 'head_sha', type: 'text', nullable: true })
  headSha!: string | null;

  /** The delivery's id, event and action, and its facts. */
  @Column({ type: 'jsonb' })
  item!: unknown;

  @Column({ name: 'parked_at', type: 'timestamptz' })
  parkedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}

export const RECORDER_STATE_ENTITIES = [
  PullRequestVersion,
  PullRequestReview,
  CommitCheck,
  ParkedDelivery,
];
