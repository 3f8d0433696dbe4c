import type { CampaignSpec } from '@campaigns/campaign-spec';
import type { WorkspaceData } from '@campaigns/events';

/** An `on:` entry that matched nothing or could not be evaluated, in words for the user. */
export interface ResolutionProblem {
  /** The entry as written, e.g. `repositoriesMatchingQuery: file:README.md`. */
  entry: string;
  message: string;
}

/** A pull request `importChangesets` lists, in a repository the code host has. */
export interface ImportedPullRequest {
  /** As the index names it (the code host's spelling), `HOST/OWNER/NAME`. */
  repository: string;
  number: number;
}

export interface ResolvedWorkspaces {
  /** Sorted by repository, then path; one per repository, branch and workspace path. */
  workspaces: WorkspaceData[];
  problems: ResolutionProblem[];
  /**
   * `importChangesets` whose repository exists, sorted by repository then number, each once.
   * Whether each pull request exists is the reconciler's to find out when it reads it.
   */
  imports: ImportedPullRequest[];
}

/**
 * Turns a spec's `on:` (and `workspaces:`) into workspaces, using the repository index it keeps
 * per code host. Throws only when resolution as a whole is impossible (e.g. a code host is
 * unreachable); per-entry trouble is a problem in the result.
 */
export interface WorkspaceResolver {
  resolve(spec: CampaignSpec): Promise<ResolvedWorkspaces>;
}
