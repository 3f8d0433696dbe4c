/**
 * When auto-merge may merge a changeset (`x-campaigns.autoMerge`): shared by the planner, which
 * plans the merge, and the reconcile queue, which makes the changeset due when an observation
 * makes it mergeable. Pure.
 */

/** How a changeset is merged (`x-campaigns.autoMerge.method`). */
export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** The head commit's checks rollup as last observed; null when no check has reported. */
export type ObservedChecks = 'SUCCESS' | 'FAILURE' | 'PENDING' | 'ERROR' | 'EXPECTED' | null;

/**
 * The review decision as last observed: null when the host requires no review (GitHub says null
 * when no branch protection asks for one).
 */
export type ObservedReview = 'APPROVED' | 'CHANGES_REQUESTED' | 'REVIEW_REQUIRED' | null;

/** What a merge decision reads of a changeset. */
export interface MergeView {
  readonly publicationState: 'unpublished' | 'draft' | 'published';
  readonly externalState: 'open' | 'closed' | 'merged' | 'deleted' | 'read-only' | null;
  readonly draft: boolean;
  readonly checks: ObservedChecks;
  readonly reviewDecision: ObservedReview;
  /** The code host's last refusal to merge (a conflict, a moved head); null when none since. */
  readonly mergeRefusal: string | null;
}

/**
 * Why the changeset cannot be merged now, in words naming the rule that holds it back; null when
 * it can. Checks must have reported and passed: a changeset whose CI has not reported yet looks
 * the same as one without CI, and merging before CI reports is what auto-merge must never do.
 */
export function mergeBlocker(c: MergeView): string | null {
  if (c.publicationState === 'unpublished' || c.externalState !== 'open')
    return 'the changeset is not open';
  if (c.draft) return 'the changeset is a draft';
  if (c.mergeRefusal !== null)
    return `the code host refused the merge (${c.mergeRefusal}); waiting for a new head, checks or review`;
  if (c.checks === 'FAILURE' || c.checks === 'ERROR') return 'checks are failing';
  if (c.checks !== 'SUCCESS') return 'waiting for checks to pass';
  if (c.reviewDecision === 'CHANGES_REQUESTED') return 'a review requests changes';
  if (c.reviewDecision === 'REVIEW_REQUIRED') return 'waiting for an approving review';
  return null;
}

/** What turning on the host's own auto-merge reads of a changeset, beyond a merge's view. */
export interface NativeAutoMergeView extends MergeView {
  /** It was turned on, or refused, for the current head already. */
  readonly nativeAutoMergeTried: boolean;
}

/**
 * Whether to turn on the host's own auto-merge now (`autoMerge.native`): once per head, while
 * its checks run and nothing else stands in the way of a merge (the review allows it, no
 * refusal). Not before checks report nor after they finish: GitHub refuses to turn it on when
 * nothing is left to wait for ("clean") and when checks failed ("unstable"); a green changeset
 * is merged by the reconciler itself.
 */
export function canEnableNativeAutoMerge(c: NativeAutoMergeView): boolean {
  if (c.nativeAutoMergeTried || c.checks !== 'PENDING') return false;
  return mergeBlocker({ ...c, checks: 'SUCCESS' }) === null;
}
