import { GlobError, matchesGlob, type CampaignSpec } from '@campaigns/campaign-spec';
import type { WorkspaceData } from '@campaigns/events';
import { workspaceScope, type WorkspaceScope } from '../steps/index.js';

/**
 * What of its repository a workspace's checkout holds: only the workspace (see
 * workspace-scope.ts) when the `workspaces` entry that applies to the repository says
 * `onlyFetchWorkspace: true`, else (and for a workspace at the root) all of it, null. The entry
 * that applies is the first whose `in` matches the repository, as the spec-service's resolver
 * chose it when it split the repository into workspaces; an invalid glob matches nothing there
 * either.
 */
export function checkoutScope(spec: CampaignSpec, workspace: WorkspaceData): WorkspaceScope | null {
  const applies = spec.workspaces.find((configuration) => {
    try {
      return matchesGlob(configuration.in, workspace.repository);
    } catch (error) {
      if (error instanceof GlobError) return false;
      throw error;
    }
  });
  return applies?.onlyFetchWorkspace ? workspaceScope(workspace.path) : null;
}
