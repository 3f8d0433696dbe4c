import type { ChangesetObservation } from '@campaigns/codehost';
import type { ChangesetObserved, EventData } from '@campaigns/events';

/** The code host's pull request state as the events name it. */
export const OBSERVED_STATE = { OPEN: 'open', CLOSED: 'closed', MERGED: 'merged' } as const;

/** What the reconciler knows of a changeset on the code host, to compare a fresh read with. */
export interface KnownHostState {
  externalState: string | null;
  draft: boolean;
  title: string | null;
  headRefOid: string | null;
}

/** A fresh read differs from what is known in state, draft, title or head commit. */
export function observationDiffers(known: KnownHostState, o: ChangesetObservation): boolean {
  return (
    OBSERVED_STATE[o.state] !== known.externalState ||
    o.isDraft !== known.draft ||
    o.title !== known.title ||
    o.headRefOid !== known.headRefOid
  );
}

/** The `ChangesetObserved` fields (beside the changeset's identity) of a read by the reconciler. */
export function syncObservation(
  o: ChangesetObservation,
): Omit<
  EventData<typeof ChangesetObserved>,
  'changesetId' | 'campaign' | 'repository' | 'headBranch'
> {
  return {
    source: 'sync',
    deliveryId: null,
    trigger: 'sync',
    number: o.number,
    url: o.url,
    title: o.title,
    state: OBSERVED_STATE[o.state],
    draft: o.isDraft,
    reviewDecision: o.reviewDecision,
    checks: o.checksState,
    headRefOid: o.headRefOid,
  };
}
