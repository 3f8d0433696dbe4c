import {
  canonicalJson,
  changesetId,
  type ChangesetSpecData,
  type ChangesetSpecRemoved,
  type EventData,
} from '@campaigns/events';
import type { ChangesetRow } from './desired-state.js';
import type { RenderedChangeset } from './render-patch.js';

export type RemovedReason = EventData<typeof ChangesetSpecRemoved>['reason'];

/** A changeset no longer wanted, and why. */
export interface ChangesetRemoval {
  kind: 'removed';
  row: ChangesetRow;
  reason: RemovedReason;
}

/** One change to the desired state: a changeset's new spec, or a changeset no longer wanted. */
export type ChangesetChange =
  | { kind: 'computed'; changesetId: string; headBranch: string; spec: ChangesetSpecData }
  | ChangesetRemoval;

/**
 * What a workspace's new patch changes: each rendered changeset whose spec differs from the one
 * recorded (or that was removed) is computed anew; each wanted one it no longer produces is removed
 * (`empty-diff` when it produced none, else `branch-no-longer-produced`).
 */
export function planWorkspaceChangesets(
  campaign: string,
  repository: string,
  recorded: readonly ChangesetRow[],
  rendered: readonly RenderedChangeset[],
): ChangesetChange[] {
  const changes: ChangesetChange[] = [];
  const produced = new Set<string>();
  for (const r of rendered) {
    const id = changesetId(campaign, repository, r.headBranch);
    produced.add(id);
    const before = recorded.find((row) => row.changeset_id === id);
    if (before && !before.removed && canonicalJson(before.spec) === canonicalJson(r.spec)) continue;
    changes.push({ kind: 'computed', changesetId: id, headBranch: r.headBranch, spec: r.spec });
  }
  const reason: RemovedReason = rendered.length === 0 ? 'empty-diff' : 'branch-no-longer-produced';
  for (const row of recorded)
    if (!row.removed && !produced.has(row.changeset_id))
      changes.push({ kind: 'removed', row, reason });
  return changes;
}

/** The wanted changesets of repositories an application no longer resolves to. */
export function changesetsLeavingSpec(
  wanted: readonly ChangesetRow[],
  repositories: ReadonlySet<string>,
): ChangesetRemoval[] {
  return wanted
    .filter((row) => !row.removed && !repositories.has(row.repository))
    .map((row) => ({ kind: 'removed', row, reason: 'repository-left-spec' }));
}
