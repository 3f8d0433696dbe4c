import type { CampaignSpec } from '@campaigns/campaign-spec';
import type { WorkspaceData } from '@campaigns/events';

/** An `on:` entry that matched nothing or could not be evaluated, in words for the user. */
export interface ResolutionProblem {
  /** The entry as written, e.g. `repositoriesMatchingQuery: file:README.md`. */
  entry: string;
  message: string;
}

export interface ResolvedWorkspaces {
  /** Sorted by repository, then path; one per repository, branch and workspace path. */
  workspaces: WorkspaceData[];
  problems: ResolutionProblem[];
}

/**
 * Turns a spec's `on:` (and `workspaces:`) into workspaces, using the repository index it keeps
 * per code host. Throws only when resolution as a whole is impossible (e.g. a code host is
 * unreachable); per-entry trouble is a problem in the result.
 */
export interface WorkspaceResolver {
  resolve(spec: CampaignSpec): Promise<ResolvedWorkspaces>;
}
