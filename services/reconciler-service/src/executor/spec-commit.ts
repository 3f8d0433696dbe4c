import type { CommitFields } from '@campaigns/codehost';
import type { RecordedSpec } from '../changeset/changeset-row.js';

/**
 * The commit a spec asks for, when the spec carries the tree its diff leads to: the base
 * revision as parent, the template's author as author and committer at the spec event's time
 * (what `buildCommit` makes with git). Null without a tree: only git can apply the diff.
 */
export function specCommitFields(recorded: RecordedSpec): CommitFields | null {
  const spec = recorded.spec;
  if (spec?.tree === undefined) return null;
  return {
    tree: spec.tree.sha,
    parent: spec.baseRevision,
    author: spec.commit.author,
    date: recorded.recordedAt,
    message: spec.commit.message,
  };
}
