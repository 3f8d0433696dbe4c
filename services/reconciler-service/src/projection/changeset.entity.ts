import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ChangesetRow } from '../changeset/changeset-row.js';
import type {
  ExternalState,
  MergeMethod,
  ObservedChecks,
  ObservedReview,
  PublicationState,
} from '../planner/index.js';

/**
 * A row of `changesets`: the projected actual and desired state of one changeset. Properties
 * are ChangesetRow's, but `streamVersion` is read as pg gives a bigint (a string).
 */
@Entity({ name: 'changesets' })
export class ChangesetEntity {
  @PrimaryColumn({ name: 'changeset_id', type: 'text' })
  changesetId!: string;

  @Column({ name: 'campaign', type: 'text' })
  campaign!: string;

  @Column({ name: 'repository', type: 'text' })
  repository!: string;

  @Column({ name: 'head_branch', type: 'text' })
  headBranch!: string;

  @Column({ name: 'desired_spec_event_id', type: 'uuid', nullable: true })
  desiredSpecEventId!: string | null;

  @Column({ name: 'previous_spec_event_id', type: 'uuid', nullable: true })
  previousSpecEventId!: string | null;

  @Column({ name: 'last_reconciled_spec_event_id', type: 'uuid', nullable: true })
  lastReconciledSpecEventId!: string | null;

  @Column({ name: 'publication_state', type: 'text' })
  publicationState!: PublicationState;

  @Column({ name: 'external_state', type: 'text', nullable: true })
  externalState!: ExternalState | null;

  @Column({ name: 'number', type: 'integer', nullable: true })
  number!: number | null;

  @Column({ name: 'url', type: 'text', nullable: true })
  url!: string | null;

  @Column({ name: 'node_id', type: 'text', nullable: true })
  nodeId!: string | null;

  @Column({ name: 'draft', type: 'boolean' })
  draft!: boolean;

  @Column({ name: 'head_ref_oid', type: 'text', nullable: true })
  headRefOid!: string | null;

  @Column({ name: 'last_pushed', type: 'jsonb', nullable: true })
  lastPushed!: ChangesetRow['lastPushed'];

  @Column({ name: 'head_repository', type: 'text', nullable: true })
  headRepository!: string | null;

  @Column({ name: 'title', type: 'text', nullable: true })
  title!: string | null;

  @Column({ name: 'body', type: 'text', nullable: true })
  body!: string | null;

  @Column({ name: 'base_ref', type: 'text', nullable: true })
  baseRef!: string | null;

  @Column({ name: 'archived', type: 'boolean' })
  archived!: boolean;

  /** Tracked from importChangesets: never pushed to, edited or closed. */
  @Column({ name: 'imported', type: 'boolean', default: false })
  imported!: boolean;

  /** An imported changeset no longer listed: no longer tracked. */
  @Column({ name: 'detached', type: 'boolean', default: false })
  detached!: boolean;

  /** Closed by a bulk operation: kept closed until its spec changes. */
  @Column({ name: 'held_closed', type: 'boolean', default: false })
  heldClosed!: boolean;

  /** Published by a bulk operation: published though its spec says `published: false`. */
  @Column({ name: 'publish_requested', type: 'boolean', default: false })
  publishRequested!: boolean;

  @Column({ name: 'attempts', type: 'integer' })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'terminal_spec_event_id', type: 'uuid', nullable: true })
  terminalSpecEventId!: string | null;

  @Column({ name: 'auto_merge', type: 'text', nullable: true })
  autoMerge!: MergeMethod | null;

  @Column({ name: 'auto_merge_native', type: 'boolean', default: false })
  autoMergeNative!: boolean;

  @Column({ name: 'native_auto_merge_head', type: 'text', nullable: true })
  nativeAutoMergeHead!: string | null;

  @Column({ name: 'checks', type: 'text', nullable: true })
  checks!: ObservedChecks;

  @Column({ name: 'review_decision', type: 'text', nullable: true })
  reviewDecision!: ObservedReview;

  @Column({ name: 'merge_refusal', type: 'text', nullable: true })
  mergeRefusal!: string | null;

  @Column({ name: 'stream_version', type: 'bigint' })
  streamVersion!: string;
}
