import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Octokit } from '@octokit/rest';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import { OpenApiValidator, validatedOctokit } from '../test-support/clients.js';

// Every response these tests receive is validated against GitHub's OpenAPI description by the
// Octokit hook; the last test asserts there were no failures.
describe('REST API through @octokit/rest', () => {
  let sim: GithubSim;
  let octokit: Octokit;
  let outsider: Octokit;
  const validator = OpenApiValidator.shared();

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 12, org: 'acme' });
    await sim.control.createUser({ login: 'alice', name: 'Alice', email: 'alice@example.com' });
    await sim.control.createUser({ login: 'mallory' });
    await sim.control.addMember({ org: 'acme', login: 'alice' });
    await sim.control.createToken({ login: 'alice', token: 'alice-token' });
    await sim.control.createToken({ login: 'mallory', token: 'mallory-token' });
    await sim.control.createRepo({
      owner: 'acme',
      name: 'secret',
      visibility: 'private',
      files: { 'README.md': '# secret\n' },
    });
    octokit = validatedOctokit(sim, 'alice-token');
    outsider = validatedOctokit(sim, 'mallory-token');
  });

  afterAll(async () => {
    await sim.stop();
  });

  it('gets a repository, lists an org with Link pagination, and hides private repositories from outsiders with 404', async () => {
    const { data: repo, headers } = await octokit.rest.repos.get({
      owner: 'acme',
      repo: 'repo-00001',
    });
    expect(repo).toMatchObject({
      full_name: 'acme/repo-00001',
      default_branch: 'main',
      archived: false,
    });
    expect(headers['x-github-request-id']).toBeTruthy();
    expect(headers['x-ratelimit-limit']).toBe('5000');
    expect(headers['x-ratelimit-resource']).toBe('core');

    const page1 = await octokit.rest.repos.listForOrg({
      org: 'acme',
      per_page: 5,
      sort: 'full_name',
    });
    expect(page1.data).toHaveLength(5);
    expect(page1.headers.link).toContain('rel="next"');
    const all = await octokit.paginate(octokit.rest.repos.listForOrg, { org: 'acme', per_page: 5 });
    expect(all.map((r) => r.name)).toContain('secret');
    expect(all).toHaveLength(13);

    await expect(outsider.rest.repos.get({ owner: 'acme', repo: 'secret' })).rejects.toMatchObject({
      status: 404,
    });
    await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'nope' })).rejects.toMatchObject({
      status: 404,
      response: { data: { message: 'Not Found' } },
    });
  });

  it('answers a conditional request with 304 and does not count it against the rate limit', async () => {
    const first = await octokit.rest.repos.get({ owner: 'acme', repo: 'repo-00002' });
    const used = Number(first.headers['x-ratelimit-used']);
    const response = await fetch(`${sim.apiUrl}/repos/acme/repo-00002`, {
      headers: { authorization: 'token alice-token', 'if-none-match': first.headers.etag! },
    });
    expect(response.status).toBe(304);
    expect(Number(response.headers.get('x-ratelimit-used'))).toBe(used);
  });

  it('rejects unknown tokens with 401 Bad credentials', async () => {
    const stranger = validatedOctokit(sim, 'not-a-token');
    await expect(
      stranger.rest.repos.get({ owner: 'acme', repo: 'repo-00001' }),
    ).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'Bad credentials' } },
    });
  });

  it('searches repositories and code with qualifiers', async () => {
    const repos = await octokit.rest.search.repos({ q: 'org:acme archived:false repo-0000' });
    expect(repos.data.total_count).toBeGreaterThan(0);
    expect(repos.data.items.every((r) => !r.archived && r.name.startsWith('repo-0000'))).toBe(true);

    const code = await octokit.rest.search.code({
      q: 'filename:package.json org:acme path:packages',
    });
    expect(code.data.items.length).toBeGreaterThan(0);
    expect(
      code.data.items.every((i) => i.path.startsWith('packages/') && i.name === 'package.json'),
    ).toBe(true);

    const text = await octokit.rest.search.code({
      q: 'lodash filename:package.json repo:acme/repo-00001',
    });
    expect(text.data.items.map((i) => i.path)).toEqual(['package.json']);

    const go = await octokit.rest.search.code({ q: 'org:acme language:go' });
    expect(go.data.items.every((i) => i.path.endsWith('.go'))).toBe(true);
    expect(go.data.total_count).toBeGreaterThan(0);
  });

  it('reads branches, refs, recursive trees and contents; creates, moves and deletes refs', async () => {
    const { data: branch } = await octokit.rest.repos.getBranch({
      owner: 'acme',
      repo: 'repo-00003',
      branch: 'main',
    });
    const main = branch.commit.sha;
    const { data: ref } = await octokit.rest.git.getRef({
      owner: 'acme',
      repo: 'repo-00003',
      ref: 'heads/main',
    });
    expect(ref.object.sha).toBe(main);

    const { data: tree } = await octokit.rest.git.getTree({
      owner: 'acme',
      repo: 'repo-00003',
      tree_sha: 'main',
      recursive: 'true',
    });
    expect(tree.tree.map((e) => e.path)).toEqual(
      expect.arrayContaining(['README.md', 'package.json', 'packages/core/package.json']),
    );

    const { data: file } = await octokit.rest.repos.getContent({
      owner: 'acme',
      repo: 'repo-00003',
      path: 'README.md',
    });
    expect(Buffer.from((file as { content: string }).content, 'base64').toString()).toContain(
      '# repo-00003',
    );
    const { data: dir } = await octokit.rest.repos.getContent({
      owner: 'acme',
      repo: 'repo-00003',
      path: 'packages',
    });
    expect((dir as { name: string }[]).map((e) => e.name)).toEqual(['cli', 'core', 'web']);

    await octokit.rest.git.createRef({
      owner: 'acme',
      repo: 'repo-00003',
      ref: 'refs/heads/topic',
      sha: main,
    });
    await expect(
      octokit.rest.git.createRef({
        owner: 'acme',
        repo: 'repo-00003',
        ref: 'refs/heads/topic',
        sha: main,
      }),
    ).rejects.toMatchObject({
      status: 422,
      response: { data: { message: 'Reference already exists' } },
    });
    const { sha: next } = await sim.control.pushCommit({
      owner: 'acme',
      name: 'repo-00003',
      branch: 'other',
      files: { 'x.txt': 'x\n' },
    });
    await octokit.rest.git.updateRef({
      owner: 'acme',
      repo: 'repo-00003',
      ref: 'heads/topic',
      sha: next,
    });
    await expect(
      octokit.rest.git.updateRef({
        owner: 'acme',
        repo: 'repo-00003',
        ref: 'heads/topic',
        sha: main,
      }),
    ).rejects.toMatchObject({
      status: 422,
      response: { data: { message: 'Update is not a fast forward' } },
    });
    await octokit.rest.git.updateRef({
      owner: 'acme',
      repo: 'repo-00003',
      ref: 'heads/topic',
      sha: main,
      force: true,
    });
    const { data: branches } = await octokit.rest.repos.listBranches({
      owner: 'acme',
      repo: 'repo-00003',
    });
    expect(branches.map((b) => b.name)).toEqual(['main', 'other', 'topic']);
    await octokit.rest.git.deleteRef({ owner: 'acme', repo: 'repo-00003', ref: 'heads/topic' });
    await expect(
      octokit.rest.git.getRef({ owner: 'acme', repo: 'repo-00003', ref: 'heads/topic' }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('runs a pull request through draft, edits, labels, comments, reviews, statuses, checks and a merge', async () => {
    const repo = { owner: 'acme', repo: 'repo-00004' };
    await sim.control.pushCommit({
      owner: 'acme',
      name: 'repo-00004',
      branch: 'feature',
      files: { 'src/new.ts': 'export const x = 1;\n' },
      actor: 'alice',
    });
    const { data: created } = await octokit.rest.pulls.create({
      ...repo,
      head: 'feature',
      base: 'main',
      title: 'Add x',
      body: 'Body',
      draft: true,
    });
    // Mergeability and diff statistics are computed on the first read (see the README).
    expect(created).toMatchObject({
      number: 1,
      state: 'open',
      draft: true,
      commits: 1,
      mergeable: null,
    });
    const { data: read } = await octokit.rest.pulls.get({ ...repo, pull_number: 1 });
    expect(read).toMatchObject({ commits: 1, additions: 1, changed_files: 1, mergeable: true });

    await expect(
      octokit.rest.pulls.create({ ...repo, head: 'feature', base: 'main', title: 'again' }),
    ).rejects.toMatchObject({
      status: 422,
      response: {
        data: { errors: [{ message: 'A pull request already exists for acme:feature.' }] },
      },
    });
    await expect(
      octokit.rest.pulls.create({ ...repo, head: 'nope', base: 'main', title: 'x' }),
    ).rejects.toMatchObject({ status: 422 });

    const { data: listed } = await octokit.rest.pulls.list({
      ...repo,
      head: 'acme:feature',
      state: 'open',
    });
    expect(listed.map((p) => p.number)).toEqual([1]);
    expect((await octokit.rest.pulls.list({ ...repo, base: 'develop' })).data).toEqual([]);

    const { data: edited } = await octokit.rest.pulls.update({
      ...repo,
      pull_number: 1,
      title: 'Add x, edited',
    });
    expect(edited.title).toBe('Add x, edited');

    await octokit.rest.issues.addLabels({ ...repo, issue_number: 1, labels: ['campaign', 'bug'] });
    const { data: labels } = await octokit.rest.issues.listLabelsOnIssue({
      ...repo,
      issue_number: 1,
    });
    expect(labels.map((l) => l.name)).toEqual(['campaign', 'bug']);
    await octokit.rest.issues.removeLabel({ ...repo, issue_number: 1, name: 'bug' });

    await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'Looks good' });
    expect(
      (await octokit.rest.issues.listComments({ ...repo, issue_number: 1 })).data.map(
        (c) => c.body,
      ),
    ).toEqual(['Looks good']);

    await expect(
      octokit.rest.pulls.createReview({ ...repo, pull_number: 1, event: 'APPROVE' }),
    ).rejects.toMatchObject({ status: 422 });
    await sim.control.submitReview({
      owner: 'acme',
      name: 'repo-00004',
      number: 1,
      event: 'APPROVE',
      actor: 'sim-admin',
    });
    await octokit.rest.pulls.createReview({
      ...repo,
      pull_number: 1,
      event: 'COMMENT',
      body: 'note',
    });
    expect(
      (await octokit.rest.pulls.listReviews({ ...repo, pull_number: 1 })).data.map((r) => r.state),
    ).toEqual(['APPROVED', 'COMMENTED']);

    await octokit.rest.repos.createCommitStatus({
      ...repo,
      sha: created.head.sha,
      state: 'pending',
      context: 'ci',
    });
    await octokit.rest.repos.createCommitStatus({
      ...repo,
      sha: created.head.sha,
      state: 'success',
      context: 'ci',
    });
    const { data: combined } = await octokit.rest.repos.getCombinedStatusForRef({
      ...repo,
      ref: 'feature',
    });
    expect(combined).toMatchObject({ state: 'success', total_count: 1 });
    expect(
      (await octokit.rest.repos.listCommitStatusesForRef({ ...repo, ref: created.head.sha })).data,
    ).toHaveLength(2);

    const { data: run } = await octokit.rest.checks.create({
      ...repo,
      name: 'build',
      head_sha: created.head.sha,
      status: 'in_progress',
    });
    await octokit.rest.checks.update({ ...repo, check_run_id: run.id, conclusion: 'success' });
    const { data: runs } = await octokit.rest.checks.listForRef({ ...repo, ref: created.head.sha });
    expect(runs.check_runs.map((r) => [r.name, r.conclusion])).toEqual([['build', 'success']]);
    const { data: suites } = await octokit.rest.checks.listSuitesForRef({
      ...repo,
      ref: 'feature',
    });
    expect(suites.check_suites.map((s) => s.conclusion)).toEqual(['success']);

    expect(
      (await octokit.rest.pulls.listFiles({ ...repo, pull_number: 1 })).data.map((f) => [
        f.filename,
        f.status,
      ]),
    ).toEqual([['src/new.ts', 'added']]);
    expect((await octokit.rest.pulls.listCommits({ ...repo, pull_number: 1 })).data).toHaveLength(
      1,
    );

    await expect(octokit.rest.pulls.merge({ ...repo, pull_number: 1 })).rejects.toMatchObject({
      status: 405,
      response: { data: { message: 'Pull Request is still a draft' } },
    });
    await sim.control.markReadyForReview({ owner: 'acme', name: 'repo-00004', number: 1 });
    await expect(
      octokit.rest.pulls.merge({ ...repo, pull_number: 1, sha: '0'.repeat(40) }),
    ).rejects.toMatchObject({ status: 409 });
    const { data: merged } = await octokit.rest.pulls.merge({
      ...repo,
      pull_number: 1,
      merge_method: 'squash',
    });
    expect(merged.merged).toBe(true);
    const { data: after } = await octokit.rest.pulls.get({ ...repo, pull_number: 1 });
    expect(after).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: merged.sha });
    expect((await octokit.rest.repos.getBranch({ ...repo, branch: 'main' })).data.commit.sha).toBe(
      merged.sha,
    );
    await octokit.rest.pulls.checkIfMerged({ ...repo, pull_number: 1 });
  });

  it('answers a conflicting merge with 405 and closes and reopens through update', async () => {
    const base = { owner: 'acme', name: 'repo-00005' };
    await sim.control.pushCommit({ ...base, branch: 'left', files: { 'README.md': 'left\n' } });
    await sim.control.pushCommit({ ...base, branch: 'main', files: { 'README.md': 'right\n' } });
    const { data: pull } = await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'repo-00005',
      head: 'left',
      base: 'main',
      title: 'conflict',
    });
    const { data: read } = await octokit.rest.pulls.get({
      owner: 'acme',
      repo: 'repo-00005',
      pull_number: pull.number,
    });
    expect(read.mergeable).toBe(false);
    expect(read.mergeable_state).toBe('dirty');
    await expect(
      octokit.rest.pulls.merge({ owner: 'acme', repo: 'repo-00005', pull_number: pull.number }),
    ).rejects.toMatchObject({
      status: 405,
      response: { data: { message: 'Pull Request is not mergeable' } },
    });
    const closed = await octokit.rest.pulls.update({
      owner: 'acme',
      repo: 'repo-00005',
      pull_number: pull.number,
      state: 'closed',
    });
    expect(closed.data.state).toBe('closed');
    const reopened = await octokit.rest.pulls.update({
      owner: 'acme',
      repo: 'repo-00005',
      pull_number: pull.number,
      state: 'open',
    });
    expect(reopened.data.state).toBe('open');
  });

  it('merges with a merge commit and by rebase, both real commits on the base branch', async () => {
    for (const [name, method] of [
      ['repo-00006', 'merge'],
      ['repo-00007', 'rebase'],
    ] as const) {
      await sim.control.pushCommit({ owner: 'acme', name, branch: 'f', files: { 'a.txt': '1\n' } });
      await sim.control.pushCommit({ owner: 'acme', name, branch: 'f', files: { 'b.txt': '2\n' } });
      await sim.control.pushCommit({
        owner: 'acme',
        name,
        branch: 'main',
        files: { 'c.txt': '3\n' },
      });
      const { data: pull } = await octokit.rest.pulls.create({
        owner: 'acme',
        repo: name,
        head: 'f',
        base: 'main',
        title: method,
      });
      const { data: merged } = await octokit.rest.pulls.merge({
        owner: 'acme',
        repo: name,
        pull_number: pull.number,
        merge_method: method,
      });
      const { data: commit } = await octokit.rest.repos.getCommit({
        owner: 'acme',
        repo: name,
        ref: merged.sha,
      });
      expect(commit.parents).toHaveLength(method === 'merge' ? 2 : 1);
      const { data: tree } = await octokit.rest.git.getTree({
        owner: 'acme',
        repo: name,
        tree_sha: 'main',
      });
      expect(tree.tree.map((e) => e.path)).toEqual(
        expect.arrayContaining(['a.txt', 'b.txt', 'c.txt']),
      );
    }
  });

  it('refuses writes to archived repositories with 403', async () => {
    await sim.control.archiveRepo({ owner: 'acme', name: 'repo-00008' });
    await expect(
      octokit.rest.git.createRef({
        owner: 'acme',
        repo: 'repo-00008',
        ref: 'refs/heads/x',
        sha: (await sim.control.getRepo({ owner: 'acme', name: 'repo-00008' })).branches.main!,
      }),
    ).rejects.toMatchObject({
      status: 403,
      response: { data: { message: 'Repository was archived so is read-only.' } },
    });
    expect(
      (await octokit.rest.repos.get({ owner: 'acme', repo: 'repo-00008' })).data.archived,
    ).toBe(true);
  });

  it('reports the rate limit and validates request bodies with 422', async () => {
    // (The request below leaves out `base` on purpose, so it is not typed as Octokit's.)
    const { data } = await octokit.rest.rateLimit.get();
    expect(data.resources.core.limit).toBe(5000);
    expect(data.resources.core.used).toBeGreaterThan(0);
    await expect(
      octokit.request('POST /repos/{owner}/{repo}/pulls', {
        owner: 'acme',
        repo: 'repo-00009',
        head: 'main',
      } as never),
    ).rejects.toMatchObject({
      status: 422,
    });
  });

  it('served only responses that match GitHub’s OpenAPI description', () => {
    expect(validator.failures).toEqual([]);
    expect(validator.validated.size).toBeGreaterThan(30);
  });
});
