import {
  canonicalJson,
  changesetId,
  importedChangesetId,
  type ChangesetSpecData,
  type ChangesetSpecRemoved,
  type EventData,
  type WorkspaceIdentity,
} from '@campaigns/events';
import { workspaceOf, type ChangesetRow } from './desired-state.js';
import type { RenderedChangeset } from './render-patch.js';
import type { ImportedPullRequest } from '../workspaces/workspace-resolver.js';

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

/**
 * The wanted changesets of workspaces an application no longer resolves to: `repository-left-spec`
 * when none of its repository's workspaces remain, else `workspace-left-spec` (a branch dropped
 * from `branches:`, a project no longer found by `workspaces:`).
 */
export function changesetsLeavingSpec(
  wanted: readonly ChangesetRow[],
  workspaces: readonly WorkspaceIdentity[],
): ChangesetRemoval[] {
  const key = (w: WorkspaceIdentity) => `${w.repository}\0${w.branch}\0${w.path}`;
  const kept = new Set(workspaces.map(key));
  const repositories = new Set(workspaces.map((w) => w.repository));
  return wanted
    .filter((row) => !row.removed && row.import_number === null && !kept.has(key(workspaceOf(row))))
    .map((row) => ({
      kind: 'removed',
      row,
      reason: repositories.has(row.repository) ? 'workspace-left-spec' : 'repository-left-spec',
    }));
}

/** A pull request to import: `importChangesets` lists it and the campaign does not track it yet. */
export interface ChangesetImport {
  changesetId: string;
  repository: string;
  number: number;
}

/**
 * What an application's `importChangesets` changes: each listed pull request the campaign does
 * not track yet (or tracked before and let go) is imported; each tracked one no longer listed is
 * removed (`import-left-spec`: the reconciler detaches it, leaving it open on the code host).
 */
export function planImports(
  campaign: string,
  wanted: readonly ChangesetRow[],
  imports: readonly ImportedPullRequest[],
): { imported: ChangesetImport[]; removed: ChangesetRemoval[] } {
  const listed = new Set<string>();
  const tracked = new Set(
    wanted.filter((r) => !r.removed && r.import_number !== null).map((r) => r.changeset_id),
  );
  const imported: ChangesetImport[] = [];
  for (const i of imports) {
    const id = importedChangesetId(campaign, i.repository, i.number);
    listed.add(id);
    if (!tracked.has(id)) imported.push({ changesetId: id, ...i });
  }
  const removed = wanted
    .filter((r) => !r.removed && r.import_number !== null && !listed.has(r.changeset_id))
    .map((row): ChangesetRemoval => ({ kind: 'removed', row, reason: 'import-left-spec' }));
  return { imported, removed };
}
