import { isTemplated, type CampaignSpec } from '@campaigns/campaign-spec';
import type { WorkspaceData } from '@campaigns/events';

/** Repositories named in the refusal; the rest are counted. */
const NAMED = 5;

/**
 * Why the spec cannot be applied to these workspaces, or null: a static `changesetTemplate.branch`
 * (no `${{ }}`) with no `transformChanges` gives every workspace of a repository the same branch,
 * so a repository with several workspaces would get one pull request that each workspace's push
 * replaces. Sourcegraph refuses this ("multiple changeset specs have the same branch") and
 * documents that a templated branch is required; so do we, before anything runs. A templated
 * branch that still renders the same for two workspaces is refused when their patches are
 * rendered (decide.ts).
 */
export function staticBranchCollision(
  spec: CampaignSpec,
  workspaces: readonly WorkspaceData[],
): string | null {
  const branch = spec.changesetTemplate?.branch;
  if (branch === undefined || spec.transformChanges !== undefined || isTemplated(branch))
    return null;
  // Distinct paths: several branches of one repository (one path each) are validate's to refuse.
  const paths = new Map<string, Set<string>>();
  for (const w of workspaces)
    paths.set(w.repository, (paths.get(w.repository) ?? new Set()).add(w.path));
  const shared = [...paths]
    .filter(([, p]) => p.size > 1)
    .map(([repository, p]) => [repository, [...p].sort()] as const)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (shared.length === 0) return null;
  const where = (p: string) => (p === '' ? '(root)' : p);
  const named = shared
    .slice(0, NAMED)
    .map(([repository, p]) => `${repository} (${p.map(where).join(', ')})`)
    .join('; ');
  const more = shared.length > NAMED ? ` and ${shared.length - NAMED} more repositories` : '';
  return (
    `multiple changeset specs would have the same branch "${branch}": changesetTemplate.branch is the same for every workspace of a repository, and these have several: ${named}${more}. ` +
    'Include ${{ steps.path }} in changesetTemplate.branch (e.g. ${{ replace steps.path "/" "-" }}) to give each workspace its own; nothing was run'
  );
}
