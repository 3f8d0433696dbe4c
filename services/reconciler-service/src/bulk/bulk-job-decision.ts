import type { BulkOperationKind } from '@campaigns/events';
import type { ChangesetRow } from '../changeset/changeset-row.js';

/** What a bulk operation's job does to one changeset; decided from the projected state alone. */
export type BulkJobDecision =
  /** Nothing to do, or not allowed; the message says why, in the result table's words. */
  | { readonly kind: 'skip'; readonly message: string }
  /** A write to the code host (paced), then its result recorded. */
  | { readonly kind: 'comment' | 'merge' | 'close'; readonly number: number }
  /** A reconcile round asked of the reconciler (ChangesetActionRequested), recorded at once. */
  | { readonly kind: 'request'; readonly action: 'retry' | 'publish'; readonly message: string };

/** What the decision reads of a changeset: its projected row and its desired spec's `published`. */
export interface BulkJobChangeset {
  readonly row: ChangesetRow | null;
  /** The desired spec's `published`; null when it has none (removed from the spec, or an import). */
  readonly published: boolean | 'draft' | null;
}

/**
 * Decides one changeset's job of a bulk operation. A changeset already in the wanted state is
 * skipped ("already …"), so a job run twice acts once; what the campaign does not own (an
 * imported pull request) is only commented on, as the reconciler never writes to it either.
 */
export function decideBulkJob(
  operation: BulkOperationKind,
  { row, published }: BulkJobChangeset,
): BulkJobDecision {
  if (row === null) return skip('the reconciler does not know this changeset yet; try again');
  if (row.detached) return skip('detached: the campaign no longer tracks it');
  const notOurs = (what: string) => skip(`imported: the campaign does not ${what} it`);
  switch (operation) {
    case 'comment':
      return row.number === null
        ? skip('not published: there is no pull request to comment on')
        : { kind: 'comment', number: row.number };
    case 'merge':
      if (row.number === null) return skip('not published: there is no pull request to merge');
      if (row.externalState === 'merged') return skip('already merged');
      if (row.imported) return notOurs('merge');
      if (row.externalState !== 'open')
        return skip(`${row.externalState ?? 'not open'}: only an open pull request is merged`);
      if (row.draft) return skip('a draft: mark it ready for review first');
      return { kind: 'merge', number: row.number };
    case 'close':
      if (row.number === null) return skip('not published: there is no pull request to close');
      if (row.externalState === 'closed') return skip('already closed');
      if (row.externalState === 'merged') return skip('merged: a merged pull request stays merged');
      if (row.imported) return notOurs('close');
      if (row.externalState !== 'open') return skip(`${row.externalState ?? 'not open'}`);
      return { kind: 'close', number: row.number };
    case 'publish':
      if (row.imported) return notOurs('publish');
      if (row.publicationState !== 'unpublished' || row.number !== null)
        return skip('already published');
      if (published === null) return skip('no longer in the spec: nothing to publish');
      if (published !== false)
        return skip(
          `its spec says published: ${JSON.stringify(published)}; the reconciler publishes it`,
        );
      if (row.publishRequested) return skip('already requested: the reconciler publishes it');
      return { kind: 'request', action: 'publish', message: 'the reconciler publishes it next' };
    case 'retry':
      if (row.lastError === null) return skip('its last reconcile did not fail');
      if (row.terminalSpecEventId === null)
        return skip('its last failure is retried on its own (retryable)');
      return {
        kind: 'request',
        action: 'retry',
        message: 'the reconciler tries again with the same desired state',
      };
  }
}

function skip(message: string): BulkJobDecision {
  return { kind: 'skip', message };
}
