import type { CampaignSpec } from '@campaigns/campaign-spec';
import type { WorkspaceData } from '@campaigns/events';
import type {
  ImportedPullRequest,
  ResolutionProblem,
  ResolvedWorkspaces,
  WorkspaceResolver,
} from '../workspaces/workspace-resolver.js';

/**
 * A WorkspaceResolver for tests: answers with the workspaces it was last given (whatever the
 * spec's `on:` says), or fails with `failure` when one is set. Records the specs it was asked.
 */
export class FixedResolver implements WorkspaceResolver {
  workspaces: WorkspaceData[] = [];
  problems: ResolutionProblem[] = [];
  imports: ImportedPullRequest[] = [];
  failure: Error | undefined;
  readonly asked: CampaignSpec[] = [];

  resolve(spec: CampaignSpec): Promise<ResolvedWorkspaces> {
    this.asked.push(spec);
    if (this.failure) return Promise.reject(this.failure);
    return Promise.resolve({
      workspaces: this.workspaces.map((w) => ({ ...w })),
      problems: [...this.problems],
      imports: this.imports.map((i) => ({ ...i })),
    });
  }
}

export function testWorkspace(repository: string, path = ''): WorkspaceData {
  return {
    repository,
    branch: 'main',
    baseRevision: 'a'.repeat(40),
    path,
    searchResultPaths: ['README.md'],
  };
}
