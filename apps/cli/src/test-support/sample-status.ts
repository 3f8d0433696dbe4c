import type { CampaignStatus, ChangesetStatus, FullCampaignStatus } from '@campaigns/contracts';

const changeset = (over: Partial<ChangesetStatus>): ChangesetStatus => ({
  repository: 'github.com/acme/api',
  headBranch: 'hello-world',
  state: 'open',
  draft: false,
  checks: 'SUCCESS',
  review: 'APPROVED',
  url: 'https://github.com/acme/api/pull/1',
  number: 1,
  lastError: null,
  errorTerminal: false,
  converged: true,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

/** A campaign that needs attention: one changeset open, one failing terminally, one failed execution. */
export const sampleStatus: FullCampaignStatus = {
  campaign: 'hello-world',
  applyId: '6f1c1b0e-0000-4000-8000-000000000001',
  specHash: 'a'.repeat(64),
  appliedAt: '2026-01-01T00:00:00.000Z',
  actor: 'alice',
  phase: 'needs-attention',
  counts: {
    workspaces: 3,
    executed: 3,
    failed: 1,
    noChanges: 0,
    changesets: 2,
    published: 1,
    errored: 1,
    open: 1,
    merged: 0,
    closed: 0,
    deadLettered: 0,
    states: {
      unpublished: 0,
      pending: 1,
      scheduled: 0,
      open: 1,
      draft: 0,
      closed: 0,
      merged: 0,
      removed: 0,
      archived: 0,
      detached: 0,
    },
  },
  executions: [
    {
      repository: 'github.com/acme/api',
      path: '',
      state: 'succeeded',
      message: null,
      stderrTail: null,
    },
    {
      repository: 'github.com/acme/web',
      branch: 'main',
      path: 'frontend',
      state: 'failed',
      message: 'step 1 exited with 2',
      stderrTail: 'npm ERR! one\nnpm ERR! missing script: lint\n\n',
    },
  ],
  changesets: [
    changeset({}),
    changeset({
      repository: 'github.com/acme/cli',
      state: 'pending',
      draft: true,
      checks: null,
      review: null,
      url: null,
      number: null,
      lastError: 'repository is archived',
      errorTerminal: true,
      converged: false,
    }),
  ],
  problems: [{ entry: 'repository: github.com/acme/gone', message: 'no such repository' }],
};

/** What `get` answers for a status: the summary without its rows. */
export function summaryOf(status: FullCampaignStatus): CampaignStatus {
  const { executions: _executions, changesets: _changesets, ...summary } = status;
  return summary;
}
