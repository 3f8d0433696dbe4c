import { describe, expect, it } from '@jest/globals';
import { executionId, MAX_RECORDED_PROBLEMS } from '@campaigns/events';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { planExecutions, recordedProblems } from './plan-executions.js';

const APPLY = '6f1b2a9e-3c1d-4e5f-8a7b-1234567890ab';
const A = 'github.com/acme/a';

describe('planExecutions', () => {
  it('queues one execution per repository, branch and workspace path', () => {
    const release = { ...testWorkspace(A), branch: 'release' };
    const plan = planExecutions(APPLY, {
      workspaces: [testWorkspace(A), release, testWorkspace(A, 'services/api'), testWorkspace(A)],
      problems: [{ entry: 'repository: github.com/acme/z', message: 'not found' }],
      imports: [],
    });

    expect(plan.workspaces).toEqual([
      { executionId: executionId(APPLY, testWorkspace(A)), workspace: testWorkspace(A) },
      { executionId: executionId(APPLY, release), workspace: release },
      {
        executionId: executionId(APPLY, testWorkspace(A, 'services/api')),
        workspace: testWorkspace(A, 'services/api'),
      },
    ]);
    expect(new Set(plan.workspaces.map((w) => w.executionId)).size).toBe(3);
    expect(plan.problems).toEqual([
      { entry: 'repository: github.com/acme/z', message: 'not found' },
    ]);
  });

  it('keeps at most 100 search result paths per workspace', () => {
    const paths = Array.from({ length: 150 }, (_, i) => `f${i}.md`);
    const plan = planExecutions(APPLY, {
      workspaces: [{ ...testWorkspace(A), searchResultPaths: paths }],
      problems: [],
      imports: [],
    });

    expect(plan.workspaces[0]!.workspace.searchResultPaths).toEqual(paths.slice(0, 100));
  });
});

describe('recordedProblems', () => {
  it('records the first problems and counts the others', () => {
    const problems = Array.from({ length: MAX_RECORDED_PROBLEMS + 7 }, (_, i) => ({
      entry: `e${i}`,
      message: 'm',
    }));

    const recorded = recordedProblems(problems);

    expect(recorded.problems).toEqual(problems.slice(0, MAX_RECORDED_PROBLEMS));
    expect(recorded.problemsOmitted).toBe(7);
    expect(recordedProblems([])).toEqual({ problems: [], problemsOmitted: 0 });
  });
});
