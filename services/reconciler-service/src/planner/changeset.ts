import type { MergeMethod, ObservedChecks, ObservedReview } from './merge.js';

/**
 * The planner's view of a changeset: what a campaign wants (a changeset spec) and what the
 * reconciler last recorded about it (the changeset state). Plain data, no framework types, so
 * the projection, the executor and the tests can all build these shapes.
 */

/** `published` from the changeset template: open a PR, open a draft PR, or keep it local. */
export type PublishedValue = boolean | 'draft';

/** A commit's author as the template renders it. */
export interface CommitAuthor {
  readonly name: string;
  readonly email: string;
}

/** The commit the reconciler pushes to the head branch. */
export interface CommitSpec {
  readonly message: string;
  readonly author: CommitAuthor;
}

/**
 * Desired state of a changeset this campaign creates: one per repository and head branch.
 * The diff itself lives in the blob table; the spec carries only its sha256.
 */
export interface BranchChangesetSpec {
  readonly kind: 'branch';
  /** Host-qualified repository name, `HOST/OWNER/NAME`. */
  readonly repository: string;
  readonly baseRef: string;
  readonly headBranch: string;
  readonly title: string;
  readonly body: string;
  readonly commit: CommitSpec;
  readonly diffSha256: string;
  readonly published: PublishedValue;
  /**
   * Push the branch to a fork and open the changeset from there: `changesetTemplate.fork`, or
   * the code host's default when the template does not say.
   */
  readonly fork: boolean;
  /** `x-campaigns.autoMerge`: merge it this way once checks and review allow; null: never. */
  readonly autoMerge: { readonly method: MergeMethod; readonly native: boolean } | null;
}

/** Desired state of an existing changeset the campaign only tracks (`importChangesets`). */
export interface ImportChangesetSpec {
  readonly kind: 'import';
  readonly repository: string;
  /** The code host's id of the changeset, e.g. a GitHub pull request number. */
  readonly externalId: string;
}

/** Desired state of one changeset. */
export type ChangesetSpec = BranchChangesetSpec | ImportChangesetSpec;

/** Whether (and how) the reconciler has published the changeset on the code host. */
export type PublicationState = 'unpublished' | 'draft' | 'published';

/** The changeset's state on the code host, as last observed (null while unpublished). */
export type ExternalState = 'open' | 'closed' | 'merged' | 'deleted' | 'read-only';

/** What the reconciler last pushed to the head branch. */
export interface PushedCommit {
  readonly diffSha256: string;
  readonly message: string;
  readonly author: CommitAuthor;
}

/**
 * Actual state of a changeset as the reconciler records it (its projection of
 * `ChangesetPublished`, `ChangesetUpdated`, `ChangesetObserved`, … events).
 */
export interface ChangesetState {
  /** Host-qualified repository name, `HOST/OWNER/NAME`. */
  readonly repository: string;
  /**
   * The head branch this changeset was created for (null for tracked changesets). A spec with
   * another head branch describes a different changeset.
   */
  readonly headBranch: string | null;
  /** `owned`: this campaign created it and may push, close and reopen it; `tracked`: imported. */
  readonly ownership: 'owned' | 'tracked';
  readonly publicationState: PublicationState;
  readonly externalState: ExternalState | null;
  readonly externalId: string | null;
  readonly externalNumber: number | null;
  /** Null until the first successful push. */
  readonly lastPushed: PushedCommit | null;
  /** Title, body and base ref last written by the reconciler or observed on the code host. */
  readonly title: string | null;
  readonly body: string | null;
  readonly baseRef: string | null;
  /** Whether the code host shows the changeset as a draft right now. */
  readonly draft: boolean;
  /** Whether the repository's code host supports draft changesets. */
  readonly supportsDrafts: boolean;
  /** Whether the head branch was last pushed to a fork (false before the first push). */
  readonly headInFork: boolean;
  /** Whether the repository's code host can push to a fork and open a changeset from it. */
  readonly supportsForks: boolean;
  /** Detached from the campaign: the campaign no longer acts on it. */
  readonly detached: boolean;
  /** Archived in the campaign after its repository left the spec. */
  readonly archived: boolean;
  /** The spec the changeset was last reconciled against (null before the first reconcile). */
  readonly previousSpec: ChangesetSpec | null;
  /** The head commit's checks and the review decision, as last observed. */
  readonly checks: ObservedChecks;
  readonly reviewDecision: ObservedReview;
  /** The code host's last refusal to merge, until the head, checks, review or spec change. */
  readonly mergeRefusal: string | null;
  /** Whether the repository's code host has an auto-merge of its own to turn on. */
  readonly supportsNativeAutoMerge: boolean;
  /** The host's auto-merge was turned on, or refused, for the current head. */
  readonly nativeAutoMergeTried: boolean;
}
