import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import type { StateChange } from '../state/events.js';
import { ControlError } from './control-client.js';

const summary = (c: StateChange) => ('action' in c ? `${c.type}.${c.action}` : c.type);

describe('control API and the change feed', () => {
  let sim: GithubSim;
  const changes: StateChange[] = [];

  beforeAll(async () => {
    sim = await startGithubSim();
    sim.state.on('change', (c) => changes.push(c));
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('acts as people and CI would, and reports each change with full records', async () => {
    const c = sim.control;
    await c.createOrg({ login: 'corp' });
    await c.createUser({ login: 'ann', name: 'Ann', email: 'ann@example.com' });
    await c.createUser({ login: 'bob' });
    await c.addMember({ org: 'corp', login: 'ann' });
    const repo = await c.createRepo({
      owner: 'corp',
      name: 'svc',
      files: { 'README.md': '# svc\n', 'src/a.ts': 'a\n' },
      actor: 'ann',
    });
    expect(repo.branches.main).toMatch(/^[0-9a-f]{40}$/);
    const ref = { owner: 'corp', name: 'svc' };

    const { sha } = await c.pushCommit({
      ...ref,
      branch: 'feat',
      files: { 'src/a.ts': 'b\n', 'README.md': null },
      message: 'Change a',
      actor: 'ann',
    });
    const pull = await c.openPullRequest({
      ...ref,
      head: 'feat',
      title: 'Feat',
      draft: true,
      actor: 'ann',
    });
    await c.markReadyForReview({ ...ref, number: pull.number, actor: 'ann' });
    await c.convertToDraft({ ...ref, number: pull.number, actor: 'ann' });
    await c.markReadyForReview({ ...ref, number: pull.number, actor: 'ann' });
    await c.updatePullRequest({ ...ref, number: pull.number, title: 'Feat!', actor: 'ann' });
    await c.setLabels({ ...ref, number: pull.number, add: ['campaign'], actor: 'ann' });
    await c.comment({ ...ref, number: pull.number, body: 'hi', actor: 'bob' });
    await c.submitReview({ ...ref, number: pull.number, event: 'APPROVE', actor: 'bob' });
    await c.setStatus({ ...ref, sha, state: 'success', context: 'ci/build' });
    const run = await c.createCheckRun({
      ...ref,
      headSha: sha,
      checkName: 'test',
      status: 'in_progress',
    });
    await c.updateCheckRun({ ...ref, id: run.id, conclusion: 'success' });
    await c.closePullRequest({ ...ref, number: pull.number, actor: 'bob' });
    await c.reopenPullRequest({ ...ref, number: pull.number, actor: 'bob' });
    const merged = await c.mergePullRequest({
      ...ref,
      number: pull.number,
      method: 'merge',
      actor: 'ann',
    });
    await c.deleteBranch({ ...ref, branch: 'feat', actor: 'ann' });
    await c.archiveRepo({ ...ref });

    expect(changes.map(summary)).toEqual([
      'repository.created',
      'push',
      'pull_request.opened',
      'pull_request.ready_for_review',
      'pull_request.converted_to_draft',
      'pull_request.ready_for_review',
      'pull_request.edited',
      'pull_request.labeled',
      'issue_comment.created',
      'pull_request_review.submitted',
      'status',
      'check_suite.requested',
      'check_run.created',
      'check_run.completed',
      'check_suite.completed',
      'pull_request.closed',
      'pull_request.reopened',
      'push',
      'pull_request.closed',
      'push',
      'repository.archived',
    ]);
    const opened = changes[2]!;
    expect(opened).toMatchObject({
      type: 'pull_request',
      pullRequest: { number: pull.number, draft: true, title: 'Feat', head: { ref: 'feat', sha } },
      repository: { owner: 'corp', name: 'svc' },
      owner: { login: 'corp', type: 'Organization' },
      sender: { login: 'ann' },
    });
    // Each change carries the records as they were then, not as they are now.
    expect(opened.type === 'pull_request' && opened.pullRequest.state).toBe('open');
    expect(changes[6]).toMatchObject({ changes: { title: { from: 'Feat' } } });
    expect(changes[7]).toMatchObject({ label: { name: 'campaign' } });
    expect(changes[10]).toMatchObject({
      status: { state: 'success', context: 'ci/build' },
      branches: [{ name: 'feat', sha }],
    });
    expect(changes[18]).toMatchObject({
      pullRequest: { merged: true, merge_commit_sha: merged.sha, merged_by: 'ann' },
    });
    expect(changes[17]).toMatchObject({
      ref: 'refs/heads/main',
      after: merged.sha,
      pusher: { login: 'ann' },
    });
  });

  it('auto-merges a pull request once its head is green', async () => {
    const c = sim.control;
    const repo = await c.createRepo({ owner: 'corp', name: 'auto' });
    const ref = { owner: 'corp', name: repo.name };
    const { sha } = await c.pushCommit({ ...ref, branch: 'x', files: { 'x.txt': 'x\n' } });
    const pull = await c.openPullRequest({ ...ref, head: 'x', title: 'Auto' });
    sim.core.pulls.enableAutoMerge(
      repo,
      sim.state.getPullRequest(repo, pull.number)!,
      'ann',
      'squash',
    );
    await c.setStatus({ ...ref, sha, state: 'pending', context: 'ci' });
    expect((await c.getPullRequest({ ...ref, number: pull.number })).merged).toBe(false);
    await c.setStatus({ ...ref, sha, state: 'success', context: 'ci' });
    expect(await c.getPullRequest({ ...ref, number: pull.number })).toMatchObject({
      merged: true,
      merged_by: 'ann',
    });
  });

  it('refuses impossible commands with the status GitHub would use', async () => {
    await expect(sim.control.getRepo({ owner: 'corp', name: 'missing' })).rejects.toBeInstanceOf(
      ControlError,
    );
    await expect(
      sim.control.openPullRequest({ owner: 'corp', name: 'svc', head: 'nope', title: 'x' }),
    ).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('archived'),
    });
    await expect(
      sim.control.openPullRequest({ owner: 'corp', name: 'auto', head: 'nope', title: 'x' }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(sim.control.createOrg({ login: 'corp' })).rejects.toMatchObject({ status: 422 });
  });

  it('creates tokens, changes their limits and logs requests per token', async () => {
    const token = await sim.control.createToken({ login: 'ann', limits: { core: 10 } });
    expect(token.token).toMatch(/^ghp_/);
    await sim.control.clearRequests();
    await fetch(`${sim.apiUrl}/repos/corp/svc`, {
      headers: { authorization: `token ${token.token}` },
    });
    const updated = await sim.control.setTokenLimits({ token: token.token, limits: { core: 20 } });
    expect(updated.limits.core).toBe(20);
    const log = await sim.control.requests({ kind: 'rest' });
    expect(log).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/api/v3/repos/corp/svc',
        status: 200,
        token: token.token,
        login: 'ann',
        createdContent: false,
      }),
    ]);
  });
});
