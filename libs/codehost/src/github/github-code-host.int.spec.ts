import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CodeHosts } from '../code-hosts.js';
import { parseCampaignsConfig } from '../config.js';
import { CodeHostError, WebhookVerificationError } from '../errors.js';
import { commitObject } from '../git-objects/commit-object.js';
import { appendObjectToPack } from '../git-objects/pack-file.js';
import { startSimCodeHost, type SimCodeHost } from '../test-support/sim-code-host.js';
import { GithubCodeHost } from './github-code-host.js';

const exec = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd });
  return stdout.trim();
}

function gitWithInput(cwd: string, args: string[], input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`git ${args[0]} failed`)),
    );
    child.stdin.end(input);
  });
}

async function errorOf(promise: Promise<unknown>): Promise<CodeHostError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CodeHostError) return error;
    throw error;
  }
  throw new Error('expected a CodeHostError');
}

/** Every file under `dir`, read as text. */
async function readTree(dir: string): Promise<string> {
  let all = '';
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) all += await readFile(join(entry.parentPath, entry.name), 'latin1');
  }
  return all;
}

describe('GithubCodeHost against the simulator', () => {
  let t: SimCodeHost;
  let work: string;

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 3 });
    work = await mkdtemp(join(tmpdir(), 'codehost-int-'));
  });
  afterAll(async () => {
    await t.sim.stop();
    await rm(work, { recursive: true, force: true });
  });

  /** A branch one commit ahead of main, made through the control API (as a person would). */
  async function branchWithCommit(repo: string, branch: string): Promise<void> {
    await t.sim.control.call('pushCommit', {
      owner: 'acme',
      name: repo,
      branch,
      files: { [`${branch}.txt`]: `${branch}\n` },
    });
  }

  it('lists an organization page by page in GraphQL, each repository with its head commit', async () => {
    const since = (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;
    const first = await t.host.listRepositories({ owner: 'acme', perPage: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toBeDefined();
    const second = await t.host.listRepositories({
      owner: 'acme',
      perPage: 2,
      cursor: first.nextCursor,
    });
    expect(second.nextCursor).toBeUndefined();
    const listed = [...first.items, ...second.items];
    expect(listed.map((r) => r.name)).toEqual([
      t.repo('repo-00001'),
      t.repo('repo-00002'),
      t.repo('repo-00003'),
    ]);
    // Two pages are two GraphQL requests: nothing is asked per repository.
    const requests = await t.sim.control.call('requests', { since });
    const api = requests.filter((r) => r.kind !== 'control');
    expect(api.map((r) => `${r.kind} ${r.method} ${r.path}`)).toEqual([
      'graphql POST /api/graphql',
      'graphql POST /api/graphql',
    ]);

    const main = await t.sim.control.call('getRepo', { owner: 'acme', name: 'repo-00001' });
    const repo = await t.host.getRepository(t.repo('repo-00001'));
    expect(repo).toEqual({
      name: t.repo('repo-00001'),
      owner: 'acme',
      shortName: 'repo-00001',
      defaultBranch: main.default_branch,
      headCommit: main.branches[main.default_branch],
      archived: false,
      fork: false,
      visibility: 'public',
      pushedAt: main.pushed_at,
      updatedAt: main.updated_at,
      nodeId: main.node_id,
      webUrl: `${t.sim.url}/acme/repo-00001`,
      description: main.description,
      topics: main.topics,
      headCommittedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(listed[0]).toEqual(repo);
    const files = await t.host.listFiles(t.repo('repo-00001'), repo.defaultBranch);
    expect(files).toContain('README.md');
  });

  it("reads a repository's description, topics and its head commit's date with the listing", async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    await t.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'described',
      description: 'Payments API',
      topics: ['payments', 'go'],
      files: { 'README.md': 'hi\n' },
    });
    const after = Date.now();
    const repo = await t.host.getRepository(t.repo('described'));
    expect(repo).toMatchObject({ description: 'Payments API', topics: ['payments', 'go'] });
    const committed = Date.parse(repo.headCommittedAt!);
    expect(committed).toBeGreaterThanOrEqual(before);
    expect(committed).toBeLessThanOrEqual(after);
    const listed = await t.host.listRepositories({ owner: 'acme', perPage: 100 });
    expect(listed.items.find((r) => r.name === repo.name)).toEqual(repo);
    const plain = listed.items.find((r) => r.name === t.repo('repo-00002'))!;
    expect(plain).toMatchObject({ topics: [] });
  });

  it('lists the most recently pushed repositories first when asked', async () => {
    const pushed = await t.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'repo-00002',
      branch: 'main',
      files: { 'pushed.txt': 'x\n' },
    });
    const page = await t.host.listRepositories({
      owner: 'acme',
      perPage: 1,
      orderBy: 'pushed',
      direction: 'desc',
    });
    expect(page.items.map((r) => [r.name, r.headCommit])).toEqual([
      [t.repo('repo-00002'), pushed.sha],
    ]);
    expect(page.nextCursor).toBeDefined();
  });

  it('fails terminally with status 404 when the owner does not exist', async () => {
    const error = await errorOf(t.host.listRepositories({ owner: 'no-such-owner' }));
    expect(error.kind).toBe('terminal');
    expect(error.context.status).toBe(404);
    expect(error.message).toContain('list repositories of no-such-owner: 404 not found');
  });

  it("lists a user's repositories when the owner is not an organization", async () => {
    await t.sim.control.call('createRepo', {
      owner: 'campaigns-bot',
      name: 'dotfiles',
      actor: 'campaigns-bot',
    });
    const page = await t.host.listRepositories({ owner: 'campaigns-bot' });
    expect(page.items.map((r) => r.name)).toEqual([`${t.config.host}/campaigns-bot/dotfiles`]);
  });

  it('pushes a branch from a local clone with real git, the token never on disk, in argv or in the remote URL', async () => {
    // Given a clone made anonymously (the repository is public) and a local commit.
    const clone = join(work, 'clone');
    await exec('git', ['clone', '--quiet', `${t.sim.url}/acme/repo-00002.git`, clone]);
    await git(
      clone,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      'commit',
      '--allow-empty',
      '-m',
      'Hello',
    );
    const sha = await git(clone, 'rev-parse', 'HEAD');

    // And git requests slowed down so the push's processes can be watched while they run.
    await t.sim.control.call('configureFaults', {
      includeGit: true,
      paths: ['.'],
      latency: { kind: 'fixed', ms: 150 },
    });
    const seenArgs: string[] = [];
    const seenEnvironments: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const pid of await readdir('/proc').catch(() => [])) {
          if (!/^\d+$/.test(pid)) continue;
          const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
          if (!cmdline.startsWith('git')) continue;
          seenArgs.push(cmdline.replaceAll('\0', ' '));
          seenEnvironments.push(await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''));
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    // When the adapter pushes the commit to a new branch.
    try {
      await t.host.pushBranch({
        repo: t.repo('repo-00002'),
        localRepoPath: clone,
        commitSha: sha,
        branch: 'campaigns/hello',
        force: false,
      });
    } finally {
      watching = false;
      await watch;
      await t.sim.control.call('configureFaults', {
        includeGit: false,
        latency: { kind: 'none' },
        paths: ['^/api/'],
      });
    }

    // Then the branch is on the host at that commit.
    const branch = await t.sim.control.call('getRepo', { owner: 'acme', name: 'repo-00002' });
    expect(branch).toBeDefined();
    const { stdout } = await exec('git', [
      'ls-remote',
      `${t.sim.url}/acme/repo-00002.git`,
      'refs/heads/campaigns/hello',
    ]);
    expect(stdout.split('\t')[0]).toBe(sha);
    // And the push's git processes were seen, none with the token in its arguments.
    expect(seenArgs.some((args) => args.includes(' push '))).toBe(true);
    for (const args of seenArgs) expect(args).not.toContain(t.token);
    // And it reached git only as the Basic header in the environment of git's own processes
    // (readable by this user and root only), never in clear.
    const basic = Buffer.from(`x-access-token:${t.token}`).toString('base64');
    for (const environment of seenEnvironments) expect(environment).not.toContain(t.token);
    expect(seenEnvironments.some((environment) => environment.includes(basic))).toBe(true);
    // And nothing in the clone's .git holds it, in clear or as the Basic credential.
    const dotGit = await readTree(join(clone, '.git'));
    expect(dotGit).not.toContain(t.token);
    expect(dotGit).not.toContain(basic);
    expect(await git(clone, 'remote', 'get-url', 'origin')).toBe(
      `${t.sim.url}/acme/repo-00002.git`,
    );
    // And the environment of this process and anything it passes on is untouched.
    expect(JSON.stringify(process.env)).not.toContain(t.token);
  });

  it('refuses a non-fast-forward push unless forced, saying the branch moved', async () => {
    const clone = join(work, 'clone');
    await git(
      clone,
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      'commit',
      '--amend',
      '--allow-empty',
      '-m',
      'Hello again',
    );
    const amended = await git(clone, 'rev-parse', 'HEAD');
    const push = (force: boolean) =>
      t.host.pushBranch({
        repo: t.repo('repo-00002'),
        localRepoPath: clone,
        commitSha: amended,
        branch: 'campaigns/hello',
        force,
      });
    const error = await errorOf(push(false));
    expect(error.kind).toBe('terminal');
    expect(error.message).toContain(`push campaigns/hello ${t.repo('repo-00002')}`);
    expect(error.message).toContain('the branch moved');
    expect(error.message).not.toContain(t.token);
    await push(true);
    const { stdout } = await exec('git', [
      'ls-remote',
      `${t.sim.url}/acme/repo-00002.git`,
      'refs/heads/campaigns/hello',
    ]);
    expect(stdout.split('\t')[0]).toBe(amended);
  });

  describe('pushPack', () => {
    let clone: string;
    let base: string;
    const repo = () => t.repo('repo-00003');
    const ada = { name: 'Ada', email: 'ada@example.com' };
    const date = new Date('2026-01-02T03:04:05Z');

    beforeAll(async () => {
      clone = join(work, 'pack-clone');
      await exec('git', ['clone', '--quiet', `${t.sim.url}/acme/repo-00003.git`, clone]);
      base = await git(clone, 'rev-parse', 'HEAD');
    });

    /** As the executor records a workspace: its tree and a pack of the objects new to `base`. */
    async function treeAndPack(content: string): Promise<{ tree: string; pack: Buffer }> {
      await git(clone, 'checkout', '-q', '--detach', base);
      await writeFile(join(clone, 'pushed.txt'), content);
      await git(clone, 'add', '-A');
      const tree = await git(clone, 'write-tree');
      const objects = await git(clone, 'rev-list', '--objects', tree, '--not', base);
      return { tree, pack: await gitWithInput(clone, ['pack-objects', '--stdout', '-q'], objects) };
    }

    async function commitPack(content: string, parent = base) {
      const { tree, pack } = await treeAndPack(content);
      const commit = commitObject({ tree, parent, author: ada, date, message: content })!;
      return { sha: commit.sha, pack: appendObjectToPack(pack, 'commit', commit.content) };
    }

    const headOf = async (branch: string) =>
      (
        await exec('git', ['ls-remote', `${t.sim.url}/acme/repo-00003.git`, `refs/heads/${branch}`])
      ).stdout.split('\t')[0];
    const lastSeq = async () => (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;
    const gitRequestsSince = async (seq: number) =>
      (await t.sim.control.call('requests', { since: seq }))
        .filter((r) => r.kind !== 'control')
        .map((r) => `${r.method} ${r.path.replace(/^.*\.git\//, '')}`);

    it('pushes a new branch with one request, the commit built here on the pack given', async () => {
      const { sha, pack } = await commitPack('one request\n');
      const seq = await lastSeq();

      const result = await t.host.pushPack({
        repo: repo(),
        branch: 'campaigns/pack',
        commitSha: sha,
        pack,
        expectedOldSha: null,
      });

      expect(result).toEqual({ status: 'pushed' });
      expect(await gitRequestsSince(seq)).toEqual(['POST git-receive-pack']);
      expect(await headOf('campaigns/pack')).toBe(sha);
      await exec('git', ['fetch', '-q', 'origin', 'campaigns/pack'], { cwd: clone });
      expect(await git(clone, 'show', `${sha}:pushed.txt`)).toBe('one request');
      expect(await git(clone, 'rev-parse', `${sha}^`)).toBe(base);
    });

    it('replaces a branch someone else moved, after one read of where it is', async () => {
      const first = await commitPack('first\n');
      await t.host.pushPack({
        repo: repo(),
        branch: 'campaigns/moved',
        commitSha: first.sha,
        pack: first.pack,
        expectedOldSha: null,
      });
      await t.sim.control.call('pushCommit', {
        owner: 'acme',
        name: 'repo-00003',
        branch: 'campaigns/moved',
        files: { 'theirs.txt': 'by hand\n' },
      });
      const second = await commitPack('second\n');
      const seq = await lastSeq();

      const result = await t.host.pushPack({
        repo: repo(),
        branch: 'campaigns/moved',
        commitSha: second.sha,
        pack: second.pack,
        expectedOldSha: first.sha,
      });

      expect(result).toEqual({ status: 'pushed' });
      expect(await gitRequestsSince(seq)).toEqual([
        'POST git-receive-pack',
        'GET info/refs',
        'POST git-receive-pack',
      ]);
      expect(await headOf('campaigns/moved')).toBe(second.sha);
    });

    it('finds a push that already happened (a crash before it was recorded) and writes nothing more', async () => {
      const pushed = await commitPack('pushed before the crash\n');
      const push = () =>
        t.host.pushPack({
          repo: repo(),
          branch: 'campaigns/repeated',
          commitSha: pushed.sha,
          pack: pushed.pack,
          expectedOldSha: null,
        });
      await push();
      const seq = await lastSeq();

      expect(await push()).toEqual({ status: 'pushed' });

      expect(await gitRequestsSince(seq)).toEqual(['POST git-receive-pack', 'GET info/refs']);
      expect(await headOf('campaigns/repeated')).toBe(pushed.sha);
    });

    it('is refused, leaving no branch, when the host lacks an object the pack builds on', async () => {
      const orphan = await commitPack('on a parent the host never saw\n', 'f'.repeat(40));

      const result = await t.host.pushPack({
        repo: repo(),
        branch: 'campaigns/orphan',
        commitSha: orphan.sha,
        pack: orphan.pack,
        expectedOldSha: null,
      });

      expect(result).toMatchObject({ status: 'refused', reason: expect.stringMatching(/missing/) });
      expect(await headOf('campaigns/orphan')).toBe('');
    });
  });

  it('creates a pull request with one request, and creating it again finds the open one', async () => {
    await branchWithCommit('repo-00001', 'feature-a');
    const input = {
      repo: t.repo('repo-00001'),
      head: 'feature-a',
      base: 'main',
      title: 'A',
      body: 'Body A',
      draft: false,
    };
    const before = (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;
    const created = await t.host.createChangeset(input);
    expect(created).toMatchObject({
      state: 'OPEN',
      isDraft: false,
      title: 'A',
      headRefName: 'feature-a',
    });
    const firstCall = (await t.sim.control.call('requests', { since: before })).filter(
      (r) => r.kind !== 'control',
    );
    expect(firstCall.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 201']);

    // As after a crash between opening the PR and recording it: GitHub answers 422, and the
    // open PR is looked up.
    const again = await t.host.createChangeset({ ...input, title: 'A, again' });
    expect(again.number).toBe(created.number);
    expect(again.title).toBe('A');
    expect((await t.host.findOpenChangeset(input.repo, 'feature-a'))?.number).toBe(created.number);
    expect(await t.host.findOpenChangeset(input.repo, 'no-such-branch')).toBeUndefined();
    const pulls = await t.sim.control.call('requests', { kind: 'rest' });
    expect(
      pulls
        .filter((r) => r.method === 'POST' && r.path.endsWith('/acme/repo-00001/pulls'))
        .map((r) => r.status),
    ).toEqual([201, 422]);
  });

  it("returns a person's open pull request from the same branch instead of opening another", async () => {
    await branchWithCommit('repo-00002', 'feature-person');
    const theirs = await t.sim.control.call('openPullRequest', {
      owner: 'acme',
      name: 'repo-00002',
      head: 'feature-person',
      base: 'main',
      title: 'Opened by hand',
    });

    const ours = await t.host.createChangeset({
      repo: t.repo('repo-00002'),
      head: 'feature-person',
      base: 'main',
      title: 'From the campaign',
      body: '',
      draft: false,
    });

    expect(ours).toMatchObject({ number: theirs.number, title: 'Opened by hand', state: 'OPEN' });
  });

  it('fails terminally, without looking for a PR, when GitHub refuses the PR for another reason', async () => {
    await branchWithCommit('repo-00002', 'feature-no-base');
    const before = (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;
    const error = await errorOf(
      t.host.createChangeset({
        repo: t.repo('repo-00002'),
        head: 'feature-no-base',
        base: 'no-such-base',
        title: 'x',
        body: '',
        draft: false,
      }),
    );
    expect(error.kind).toBe('terminal');
    expect(error.message).toContain('422 validation failed');
    const requests = (await t.sim.control.call('requests', { since: before })).filter(
      (r) => r.kind !== 'control',
    );
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 422']);
  });

  it('walks a draft through ready, draft, edits, close, reopen, comment and merge', async () => {
    await branchWithCommit('repo-00003', 'feature-b');
    const repo = t.repo('repo-00003');
    const draft = await t.host.createChangeset({
      repo,
      head: 'feature-b',
      base: 'main',
      title: 'B',
      body: 'b',
      draft: true,
    });
    const ref = { repo, number: draft.number };
    expect(draft.isDraft).toBe(true);

    expect((await t.host.markReadyForReview(ref)).isDraft).toBe(false);
    expect(
      (
        await t.sim.control.call('getPullRequest', {
          owner: 'acme',
          name: 'repo-00003',
          number: ref.number,
        })
      ).draft,
    ).toBe(false);
    expect((await t.host.convertToDraft(ref)).isDraft).toBe(true);
    await t.host.markReadyForReview(ref);

    const updated = await t.host.updateChangeset({
      ...ref,
      title: 'B, retitled',
      body: 'new body',
    });
    expect(updated).toMatchObject({ title: 'B, retitled', body: 'new body' });
    expect((await t.host.closeChangeset(ref)).state).toBe('CLOSED');
    expect((await t.host.reopenChangeset(ref)).state).toBe('OPEN');

    const comment = await t.host.comment({ ...ref, body: 'Campaigns says hi' });
    expect(comment.id).toBeGreaterThan(0);

    const { sha } = await t.host.mergeChangeset(ref);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const [observed] = await t.host.loadChangesets([ref]);
    expect(observed).toMatchObject({ state: 'MERGED', title: 'B, retitled', baseRefName: 'main' });
  });

  it('answers a merge the host refuses (a conflict, a moved head) with a terminal error at once, asking once', async () => {
    await branchWithCommit('repo-00002', 'conflicting');
    const pr = await t.host.createChangeset({
      repo: t.repo('repo-00002'),
      head: 'conflicting',
      base: 'main',
      title: 'Conflicts',
      body: '',
      draft: false,
    });
    const ref = { repo: t.repo('repo-00002'), number: pr.number };
    const since = (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;

    const moved = await errorOf(t.host.mergeChangeset({ ...ref, expectedHeadSha: 'b'.repeat(40) }));
    expect(moved).toMatchObject({ kind: 'terminal', context: { status: 409 } });

    // main gets the same file with other content: the pull request no longer merges.
    await t.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'repo-00002',
      branch: 'main',
      files: { 'conflicting.txt': 'other\n' },
    });
    const conflict = await errorOf(
      t.host.mergeChangeset({ ...ref, expectedHeadSha: pr.headRefOid }),
    );
    expect(conflict).toMatchObject({ kind: 'terminal', context: { status: 405 } });
    expect(conflict.message).toContain('not mergeable');

    const merges = (await t.sim.control.call('requests', { since })).filter(
      (r) => r.method === 'PUT' && r.path.endsWith(`/pulls/${pr.number}/merge`),
    );
    expect(merges).toHaveLength(2);
  });

  it("turns on GitHub's auto-merge while a check is pending, and the host merges once it passes; with nothing to wait for, the host refuses", async () => {
    await branchWithCommit('repo-00001', 'native');
    const pr = await t.host.createChangeset({
      repo: t.repo('repo-00001'),
      head: 'native',
      base: 'main',
      title: 'Native',
      body: '',
      draft: false,
    });
    const ref = { repo: t.repo('repo-00001'), number: pr.number };
    const refused = await errorOf(
      t.host.enableAutoMerge({ ...ref, method: 'squash', expectedHeadSha: pr.headRefOid }),
    );
    expect(refused.kind).toBe('terminal');
    expect(refused.message).toContain('is in clean status');

    const run = await t.sim.control.call('createCheckRun', {
      owner: 'acme',
      name: 'repo-00001',
      headSha: pr.headRefOid,
      checkName: 'ci',
      status: 'in_progress',
    });
    await t.host.enableAutoMerge({ ...ref, method: 'squash', expectedHeadSha: pr.headRefOid });
    const enabled = await t.sim.control.call('getPullRequest', {
      owner: 'acme',
      name: 'repo-00001',
      number: pr.number,
    });
    expect(enabled.auto_merge).toMatchObject({ merge_method: 'squash' });

    await t.sim.control.call('updateCheckRun', {
      owner: 'acme',
      name: 'repo-00001',
      id: run.id,
      status: 'completed',
      conclusion: 'success',
    });
    const [observed] = await t.host.loadChangesets([ref]);
    expect(observed).toMatchObject({ state: 'MERGED' });
  });

  it('loads 120 pull requests in two GraphQL queries, leaving out ones that do not exist', async () => {
    // Given 120 pull requests opened by people on the host.
    const refs: { repo: string; number: number }[] = [];
    for (let i = 0; i < 120; i++) {
      const name = `repo-0000${(i % 3) + 1}`;
      await t.sim.control.call('createBranch', { owner: 'acme', name, branch: `many-${i}` });
      await t.sim.control.call('pushCommit', {
        owner: 'acme',
        name,
        branch: `many-${i}`,
        files: { [`m${i}.txt`]: 'x' },
      });
      const pull = await t.sim.control.call('openPullRequest', {
        owner: 'acme',
        name,
        head: `many-${i}`,
        title: `Many ${i}`,
        draft: i % 2 === 0,
      });
      refs.push({ repo: t.repo(name), number: pull.number });
    }
    await t.sim.control.call('setLabels', {
      owner: 'acme',
      name: 'repo-00001',
      number: refs[0]!.number,
      add: ['campaign'],
    });
    await t.sim.control.call('closePullRequest', {
      owner: 'acme',
      name: 'repo-00002',
      number: refs[1]!.number,
    });
    const before = await t.sim.control.call('requests', {});
    const since = before.at(-1)?.seq ?? 0;

    // When they are loaded (with one that does not exist).
    const observed = await t.host.loadChangesets([
      ...refs,
      { repo: t.repo('repo-00001'), number: 99_999 },
    ]);

    // Then two GraphQL requests carried them all.
    const requests = await t.sim.control.call('requests', { since });
    expect(requests.filter((r) => r.kind === 'graphql')).toHaveLength(2);
    expect(requests.filter((r) => r.kind !== 'control')).toHaveLength(2);
    expect(observed).toHaveLength(120);
    expect(observed[0]).toMatchObject({
      repo: refs[0]!.repo,
      number: refs[0]!.number,
      title: 'Many 0',
      state: 'OPEN',
      isDraft: true,
      labels: ['campaign'],
      headRefName: 'many-0',
      headRefOid: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(observed[1]).toMatchObject({ state: 'CLOSED', isDraft: false });
  });

  it('verifies webhook signatures and parses verified deliveries', async () => {
    const body = Buffer.from(
      JSON.stringify({ action: 'opened', repository: { full_name: 'acme/repo-00001' } }),
    );
    const sign = (secret: string) =>
      `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const headers = (signature?: string) => ({
      'X-GitHub-Event': 'pull_request',
      'X-GitHub-Delivery': 'delivery-1',
      ...(signature === undefined ? {} : { 'X-Hub-Signature-256': signature }),
    });

    const delivery = await t.host.parseWebhook(headers(sign(t.webhookSecret)), body);
    expect(delivery).toMatchObject({
      id: 'delivery-1',
      event: 'pull_request',
      action: 'opened',
      repo: t.repo('repo-00001'),
    });

    await expect(t.host.verifyWebhook(headers(sign('wrong-secret')), body)).rejects.toMatchObject({
      name: 'WebhookVerificationError',
      reason: 'bad_signature',
    });
    await expect(t.host.verifyWebhook(headers(), body)).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
    await expect(
      t.host.parseWebhook(headers(sign(t.webhookSecret)), Buffer.concat([body, Buffer.from(' ')])),
    ).rejects.toMatchObject({
      reason: 'bad_signature',
    });
  });

  it("verifies and parses the simulator's own signed deliveries", async () => {
    // Given a receiver registered as a hook with the configured secret.
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/github`;
      await t.sim.control.call('createHook', {
        owner: 'acme',
        name: 'repo-00003',
        url,
        secret: t.webhookSecret,
        events: ['pull_request'],
      });

      // When a person opens a pull request.
      await branchWithCommit('repo-00003', 'feature-hooked');
      await t.sim.control.call('openPullRequest', {
        owner: 'acme',
        name: 'repo-00003',
        head: 'feature-hooked',
        title: 'Hooked',
      });
      // webhooksIdle is a plugin's control command, outside ControlCommands' types.
      await fetch(`${t.sim.url}/_control/webhooksIdle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });

      // Then each delivery verifies and parses as that pull request's event.
      const deliveries = await Promise.all(
        received.map((r) => t.host.parseWebhook(r.headers, Buffer.from(r.body))),
      );
      const opened = deliveries.find((d) => d.event === 'pull_request');
      expect(opened).toMatchObject({ action: 'opened', repo: t.repo('repo-00003') });
      expect(deliveries.map((d) => d.event)).toContain('ping');
    } finally {
      server.close();
    }
  });

  it('fails terminally, saying where, on an archived repository', async () => {
    await branchWithCommit('repo-00001', 'feature-archived');
    await t.sim.control.call('archiveRepo', { owner: 'acme', name: 'repo-00001' });
    try {
      const error = await errorOf(
        t.host.createChangeset({
          repo: t.repo('repo-00001'),
          head: 'feature-archived',
          base: 'main',
          title: 'x',
          body: '',
          draft: false,
        }),
      );
      expect(error.kind).toBe('terminal');
      expect(error.context).toMatchObject({ repo: t.repo('repo-00001'), status: 403 });
      expect(error.message).toContain(
        `create pull request from feature-archived ${t.repo('repo-00001')}: 403`,
      );
      expect(error.message).toContain('archived');
    } finally {
      await t.sim.control.call('archiveRepo', {
        owner: 'acme',
        name: 'repo-00001',
        archived: false,
      });
    }
  });

  it('retries 5xx answers and connection resets until they succeed', async () => {
    await t.sim.control.call('configureFaults', { seed: 7, errorRate: 0.3, resetRate: 0.1 });
    try {
      for (let i = 0; i < 5; i++) {
        const repo = await t.host.getRepository(t.repo('repo-00002'));
        expect(repo.shortName).toBe('repo-00002');
      }
    } finally {
      await t.sim.control.call('configureFaults', { errorRate: 0, resetRate: 0 });
    }
    const requests = await t.sim.control.call('requests', { kind: 'graphql' });
    expect(requests.some((r) => r.status >= 500)).toBe(true);
  });

  it('fails retryable, naming the pull request, when 5xx answers outlast the retries', async () => {
    await t.sim.control.call('configureFaults', { errorRate: 1, errorStatuses: [503] });
    try {
      const error = await errorOf(t.host.closeChangeset({ repo: t.repo('repo-00001'), number: 1 }));
      expect(error.kind).toBe('retryable');
      expect(error.message).toContain(`close pull request ${t.repo('repo-00001')} #1: 503`);
    } finally {
      await t.sim.control.call('configureFaults', { errorRate: 0, errorStatuses: [500, 502, 503] });
    }
  });

  it('fails terminally on an unknown repository, and never prints the token', async () => {
    const error = await errorOf(t.host.getRepository(t.repo('no-such-repo')));
    expect(error.kind).toBe('terminal');
    expect(error.context.status).toBe(404);
    expect(error.message).toContain(`get repository ${t.repo('no-such-repo')}: 404 not found`);
    for (const text of [
      error.message,
      JSON.stringify(error),
      inspect(error, { depth: 5 }),
      JSON.stringify(t.host),
      inspect(t.host),
      ...t.logs,
    ]) {
      expect(text).not.toContain(t.token);
    }
  });

  it('fails terminally on a revoked canary token, over REST and git, without ever printing it', async () => {
    // Given a config whose token the host does not know.
    const canary = 'ghp_CANARY_revoked_0000000000000000';
    const logs: string[] = [];
    const config = parseCampaignsConfig(
      `codeHosts:\n  - { id: sim, kind: github, url: "${t.sim.url}", apiUrl: "${t.sim.apiUrl}", tokenEnv: BAD_TOKEN }\n`,
      'campaigns.config.yaml',
      { BAD_TOKEN: canary },
    );
    const hosts = new CodeHosts(config, { log: (line) => logs.push(line), retryBaseMs: 10 });
    const host = hosts.forRepository(t.repo('repo-00001'));

    // When it is used for an API call and a push.
    const apiError = await errorOf(host.getRepository(t.repo('repo-00001')));
    const clone = join(work, 'clone');
    const pushError = await errorOf(
      host.pushBranch({
        repo: t.repo('repo-00002'),
        localRepoPath: clone,
        commitSha: await git(clone, 'rev-parse', 'HEAD'),
        branch: 'campaigns/revoked',
        force: true,
      }),
    );

    const packError = await errorOf(
      host.pushPack({
        repo: t.repo('repo-00002'),
        branch: 'campaigns/revoked',
        commitSha: 'a'.repeat(40),
        pack: Buffer.from('PACK'),
        expectedOldSha: null,
      }),
    );

    // And a webhook arrives though no secret is configured for this host.
    await expect(
      host.verifyWebhook({ 'x-hub-signature-256': 'sha256=00' }, Buffer.from('{}')),
    ).rejects.toMatchObject({
      reason: 'no_secret',
    });

    // Then both fail terminally, saying to check the token, and the token is nowhere.
    expect(apiError.kind).toBe('terminal');
    expect(apiError.message).toContain('401 bad credentials');
    expect(pushError.kind).toBe('terminal');
    expect(pushError.message).toContain("check the code host's token");
    expect(packError.kind).toBe('terminal');
    expect(packError.message).toContain("check the code host's token");
    const basic = Buffer.from(`x-access-token:${canary}`).toString('base64');
    for (const text of [
      apiError.message,
      pushError.message,
      packError.message,
      JSON.stringify([apiError, pushError, packError]),
      inspect([apiError, pushError, packError], { depth: 8 }),
      inspect(hosts, { depth: 8 }),
      JSON.stringify(config),
      ...logs,
    ]) {
      expect(text).not.toContain(canary);
      expect(text).not.toContain(basic);
    }
  });

  it('spaces writes as GitHub advises when spacing is configured', async () => {
    const numbers: number[] = [];
    for (const branch of ['paced-a', 'paced-b']) {
      await branchWithCommit('repo-00003', branch);
      const pr = await t.host.createChangeset({
        repo: t.repo('repo-00003'),
        head: branch,
        base: 'main',
        title: branch,
        body: '',
        draft: false,
      });
      numbers.push(pr.number);
    }
    const paced = new GithubCodeHost(t.config, { writeSpacingMs: 400, notificationSpacingMs: 0 });
    const before = (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;
    await Promise.all(
      numbers.map((number) =>
        paced.updateChangeset({ repo: t.repo('repo-00003'), number, title: `paced ${number}` }),
      ),
    );
    const patches = (await t.sim.control.call('requests', { since: before }))
      .filter((r) => r.method === 'PATCH')
      .map((r) => Date.parse(r.at));
    expect(patches).toHaveLength(2);
    expect(Math.abs(patches[1]! - patches[0]!)).toBeGreaterThanOrEqual(300);
  });
});

describe('GithubCodeHost under rate limits', () => {
  let t: SimCodeHost;

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 3 });
  });
  afterAll(async () => {
    await t.sim.stop();
  });

  it('waits out the secondary content-creation limit and then creates every pull request', async () => {
    // Given a token allowed two content-creating requests a minute, told to retry after 1 s.
    await t.sim.control.call('setTokenLimits', {
      token: t.token,
      limits: { contentPerMinute: 2, secondaryRetryAfterSeconds: 1 },
    });
    for (let i = 0; i < 4; i++) {
      await t.sim.control.call('pushCommit', {
        owner: 'acme',
        name: 'repo-00001',
        branch: `limited-${i}`,
        files: { [`l${i}`]: 'x' },
      });
    }
    // While the adapter waits, the minute passes (here: the limit is raised once it has waited).
    const raiseOnWait = setInterval(() => {
      if (
        t.logs.some((line) => line.includes('secondary rate limit') && line.includes('waiting'))
      ) {
        clearInterval(raiseOnWait);
        void t.sim.control.call('setTokenLimits', {
          token: t.token,
          limits: { contentPerMinute: 80 },
        });
      }
    }, 20);

    // When four pull requests are created.
    const created = [];
    try {
      for (let i = 0; i < 4; i++) {
        created.push(
          await t.host.createChangeset({
            repo: t.repo('repo-00001'),
            head: `limited-${i}`,
            base: 'main',
            title: `L${i}`,
            body: '',
            draft: false,
          }),
        );
      }
    } finally {
      clearInterval(raiseOnWait);
    }

    // Then all four exist, and the host did answer with its secondary limit on the way.
    expect(new Set(created.map((c) => c.number)).size).toBe(4);
    const requests = await t.sim.control.call('requests', { kind: 'rest' });
    expect(requests.some((r) => r.status === 403 && r.path.endsWith('/pulls'))).toBe(true);
    expect(
      t.logs.some((line) => /secondary rate limit on POST .*pulls; waiting 1s/.test(line)),
    ).toBe(true);
  });

  it('waits out an exhausted primary limit until its reset when the wait is short', async () => {
    await t.sim.control.call('setTokenLimits', {
      token: t.token,
      limits: { core: 4, windowSeconds: 2 },
    });
    await t.sim.control.call('resetRateLimits', { token: t.token });
    for (let i = 0; i < 6; i++) {
      expect(await t.host.listFiles(t.repo('repo-00003'), 'main')).toContain('README.md');
    }
    expect(
      t.logs.some((line) => line.includes('primary rate limit') && line.includes('waiting')),
    ).toBe(true);
  });

  it('surfaces a long primary-limit wait as rate_limited with the time to wait', async () => {
    await t.sim.control.call('setTokenLimits', {
      token: t.token,
      limits: { core: 1, windowSeconds: 3600 },
    });
    await t.sim.control.call('resetRateLimits', { token: t.token });
    await t.host.listFiles(t.repo('repo-00003'), 'main').catch(() => undefined);
    const error = await errorOf(t.host.listFiles(t.repo('repo-00003'), 'main'));
    expect(error.kind).toBe('rate_limited');
    expect(error.retryAfterMs).toBeGreaterThan(60_000);
    expect(error.message).toContain(`list files at main ${t.repo('repo-00003')}`);
  });

  it('waits out an exhausted GraphQL budget, which plugin-throttling does not see on /api/graphql', async () => {
    await t.sim.control.call('setTokenLimits', {
      token: t.token,
      limits: { core: 5000, graphql: 1, windowSeconds: 2 },
    });
    await t.sim.control.call('resetRateLimits', { token: t.token });
    const ref = { repo: t.repo('repo-00001'), number: 1 };
    await t.host.loadChangesets([ref]);
    const [again] = await t.host.loadChangesets([ref]);
    expect(again?.number).toBe(1);
    expect(t.logs.some((line) => line.includes('GraphQL rate limit'))).toBe(true);
  });
});
