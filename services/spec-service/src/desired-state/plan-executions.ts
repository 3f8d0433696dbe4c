import { executionId, MAX_RECORDED_PROBLEMS, type WorkspaceData } from '@campaigns/events';
import type { ResolutionProblem, ResolvedWorkspaces } from '../workspaces/workspace-resolver.js';

/** One workspace an application runs its steps in, under its execution id. */
export interface QueuedWorkspace {
  executionId: string;
  workspace: WorkspaceData;
}

/** The executions one application queues, and what its `WorkspacesResolved` reports. */
export interface ExecutionPlan {
  workspaces: QueuedWorkspace[];
  /** Every problem; `WorkspacesResolved` records the first MAX_RECORDED_PROBLEMS and counts the rest. */
  problems: ResolutionProblem[];
}

/**
 * The executions an application queues for the workspaces `on:` resolved to. executionId covers
 * (applyId, repository, path) but not the branch: a second branch of the same workspace would
 * collide with the first, so only the first runs and the others are problems.
 */
export function planExecutions(applyId: string, resolved: ResolvedWorkspaces): ExecutionPlan {
  const problems = resolved.problems.map((p) => ({ entry: p.entry, message: p.message }));
  const workspaces: QueuedWorkspace[] = [];
  const firstBranch = new Map<string, string>();
  for (const w of resolved.workspaces) {
    const id = executionId(applyId, w.repository, w.path);
    const first = firstBranch.get(id);
    if (first !== undefined) {
      problems.push({
        entry: `repository: ${w.repository}`,
        message: `branch ${w.branch}${w.path === '' ? '' : ` (workspace ${w.path})`} is skipped: one campaign runs one branch per repository workspace, and ${first} already is`,
      });
      continue;
    }
    firstBranch.set(id, w.branch);
    workspaces.push({
      executionId: id,
      workspace: {
        repository: w.repository,
        branch: w.branch,
        baseRevision: w.baseRevision,
        path: w.path,
        searchResultPaths: w.searchResultPaths.slice(0, 100),
      },
    });
  }
  return { workspaces, problems };
}

/** The problems as `WorkspacesResolved` records them: the first ones, and how many more. */
export function recordedProblems(problems: readonly ResolutionProblem[]): {
  problems: ResolutionProblem[];
  problemsOmitted: number;
} {
  return {
    problems: problems.slice(0, MAX_RECORDED_PROBLEMS),
    problemsOmitted: Math.max(0, problems.length - MAX_RECORDED_PROBLEMS),
  };
}
