import type { ChangesetObserved, EventData } from '@campaigns/events';
import type {
  ChangesetObservation,
  ChecksState,
  ObservedFields,
  ReviewDecision,
} from './code-host.js';

/** The `ChangesetObserved` payload, as the event catalogue defines it. */
export type ChangesetObservedData = EventData<typeof ChangesetObserved>;

/** Which changeset an observation is about. */
export interface ObservedChangeset {
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
}

/**
 * Where an observation comes from: a webhook delivery or a read by the reconciler (its trigger
 * `sync`, or `import` for the first read of an imported pull request).
 */
export type ObservationSource =
  | { source: 'webhook'; deliveryId: string; trigger: string; sender?: string }
  | { source: 'sync'; trigger?: 'sync' | 'import' };

/**
 * The one builder of `ChangesetObserved` payloads: what a source says about one pull request,
 * typed by the catalogue. The webhook-gateway (from `CodeHost.webhookFacts`), the reconciler's
 * rounds and its syncer (from `loadChangesets`) all record through it.
 */
export function changesetObserved(
  changeset: ObservedChangeset,
  number: number,
  fields: ObservedFields,
  from: ObservationSource,
): ChangesetObservedData {
  const { changesetId, campaign, repository, headBranch } = changeset;
  const origin =
    from.source === 'webhook'
      ? { source: 'webhook' as const, deliveryId: from.deliveryId, trigger: from.trigger }
      : { source: 'sync' as const, deliveryId: null, trigger: from.trigger ?? 'sync' };
  return {
    changesetId,
    campaign,
    repository,
    headBranch,
    ...origin,
    number,
    ...fields,
    ...(from.source === 'webhook' && from.sender !== undefined ? { sender: from.sender } : {}),
  };
}

/** The code host's pull request state as the events name it. */
export const OBSERVED_STATE = { OPEN: 'open', CLOSED: 'closed', MERGED: 'merged' } as const;

/** Everything a read of a pull request says, as observation fields. */
export function observedFields(o: ChangesetObservation): ObservedFields {
  return {
    url: o.url,
    title: o.title,
    state: OBSERVED_STATE[o.state],
    draft: o.isDraft,
    reviewDecision: o.reviewDecision,
    checks: o.checksState,
    headRefOid: o.headRefOid,
  };
}

/** What is known of a changeset on the code host, to compare a fresh read with. */
export interface KnownHostState {
  externalState: string | null;
  draft: boolean;
  title: string | null;
  headRefOid: string | null;
  /** The checks last observed (null: none reported); compared only when given. */
  checks?: ChecksState;
  /** The review decision last observed (null: a review is required); compared only when given. */
  reviewDecision?: ReviewDecision;
}

/**
 * A fresh read differs from what is known in state, draft, title or head commit, or in checks or
 * review decision when those are known (the syncer knows them; a reconcile round does not).
 */
export function observationDiffers(known: KnownHostState, o: ChangesetObservation): boolean {
  const review = (decision: ReviewDecision | undefined) => decision ?? 'REVIEW_REQUIRED';
  return (
    OBSERVED_STATE[o.state] !== known.externalState ||
    o.isDraft !== known.draft ||
    o.title !== known.title ||
    o.headRefOid !== known.headRefOid ||
    (known.checks !== undefined && o.checksState !== known.checks) ||
    (known.reviewDecision !== undefined &&
      review(o.reviewDecision) !== review(known.reviewDecision))
  );
}
