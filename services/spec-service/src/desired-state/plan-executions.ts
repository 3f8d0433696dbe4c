import { executionId, MAX_RECORDED_PROBLEMS, type WorkspaceData } from '@campaigns/events';
import type {
  ImportedPullRequest,
  ResolutionProblem,
  ResolvedWorkspaces,
} from '../workspaces/workspace-resolver.js';

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
  /** The pull requests `importChangesets` lists (in repositories the code host has). */
  imports: ImportedPullRequest[];
}

/**
 * The executions an application queues for the workspaces `on:` resolved to: one per repository,
 * branch and path. As on Sourcegraph, `on: repository` with several `branches:` runs each branch
 * as a workspace of its own, whose changesets are based on that branch.
 */
export function planExecutions(applyId: string, resolved: ResolvedWorkspaces): ExecutionPlan {
  const problems = resolved.problems.map((p) => ({ entry: p.entry, message: p.message }));
  const workspaces: QueuedWorkspace[] = [];
  const seen = new Set<string>();
  for (const w of resolved.workspaces) {
    const id = executionId(applyId, w);
    // The resolver already deduplicates; a repeat would only queue the same execution twice.
    if (seen.has(id)) continue;
    seen.add(id);
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
  return { workspaces, problems, imports: resolved.imports.map((i) => ({ ...i })) };
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
