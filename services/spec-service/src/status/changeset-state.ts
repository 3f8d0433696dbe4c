import type { ChangesetStatus } from '@campaigns/contracts';
import { IMPORTED, type StatusChangesetRow } from './status-evolve.js';

// For readers that fold the log themselves (`campaign burndown`): the status projection's
// changeset evolve, and what its rows mean, in TypeScript rather than SQL.
export { evolveChangeset, Rows } from './status-evolve.js';

/** What `campaign status` shows a changeset as (one of `CHANGESET_STATES`). */
export type ChangesetState = ChangesetStatus['state'];

/**
 * A changeset row's displayed state: `CHANGESET_STATE` of `campaign-status.ts` (the SQL that
 * status pages and counts use) as a function. `changeset-state.int.spec.ts` holds the two equal.
 */
export function changesetState(
  row: Pick<StatusChangesetRow, 'host_state' | 'wanted' | 'published' | 'scheduled_for'>,
): ChangesetState {
  const host = row.host_state;
  if (host === 'merged') return 'merged';
  if (!row.wanted && row.published === IMPORTED && host !== null) return 'detached';
  if (!row.wanted) {
    if (host === 'open' || host === 'draft') return host;
    return host === 'closed' ? 'archived' : 'removed';
  }
  if (host !== null) return host as ChangesetState;
  if (row.published === 'false') return 'unpublished';
  if (row.scheduled_for !== null) return 'scheduled';
  return 'pending';
}

/** Whether `campaign status` counts a changeset in this state among the campaign's changesets. */
export { countedChangesetState as countedChangeset } from '@campaigns/contracts';
