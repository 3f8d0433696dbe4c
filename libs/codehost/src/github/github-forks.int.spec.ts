import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CodeHostError } from '../errors.js';
import { startSimCodeHost, type SimCodeHost } from '../test-support/sim-code-host.js';
import { GithubCodeHost } from './github-code-host.js';

const exec = promisify(execFile);

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd });
  return stdout.trim();
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

// The adapter's forks against the simulator: the bot forks a repository of an organization it
// does not belong to (it can read it, not push to it), pushes there and opens the pull request
// on the upstream repository from the fork.
describe('GithubCodeHost forks against the simulator', () => {
  let t: SimCodeHost;
  let work: string;
  let upstream: string;

  beforeAll(async () => {
    t = await startSimCodeHost({ repos: 1 });
    work = await mkdtemp(join(tmpdir(), 'codehost-forks-'));
    await t.sim.control.call('createOrg', { login: 'oss' });
    await t.sim.control.call('createRepo', {
      owner: 'oss',
      name: 'lib',
      files: { 'README.md': '# lib\n' },
    });
    await t.sim.control.call('createOrg', { login: 'bots', members: ['campaigns-bot'] });
    upstream = `${t.config.host}/oss/lib`;
  });
  afterAll(async () => {
    await t.sim.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function apiRequestsSince(since: number): Promise<string[]> {
    const requests = await t.sim.control.call('requests', { since });
    return requests.filter((r) => r.kind === 'rest').map((r) => `${r.method} ${r.path}`);
  }

  async function lastSeq(): Promise<number> {
    return (await t.sim.control.call('requests', {})).at(-1)?.seq ?? 0;
  }

  it("forks into the token's user as <owner>-<name>, and finds that fork with one read the next time", async () => {
    const since = await lastSeq();
    const fork = await t.host.ensureFork({ repo: upstream });
    expect(fork).toBe(`${t.config.host}/campaigns-bot/oss-lib`);
    const made = t.sim.state.getRepository('campaigns-bot', 'oss-lib')!;
    expect(made).toMatchObject({ fork: true });
    expect(t.sim.state.getRepositoryById(made.parent_id!)).toMatchObject({
      owner: 'oss',
      name: 'lib',
    });
    expect(await apiRequestsSince(since)).toEqual([
      'GET /api/v3/user',
      'GET /api/v3/repos/campaigns-bot/oss-lib',
      'POST /api/v3/repos/oss/lib/forks',
      'GET /api/v3/repos/campaigns-bot/oss-lib',
    ]);

    const again = await lastSeq();
    expect(await t.host.ensureFork({ repo: upstream })).toBe(fork);
    expect(await apiRequestsSince(again)).toEqual(['GET /api/v3/repos/campaigns-bot/oss-lib']);
  });

  it('forks into a configured organization', async () => {
    const fork = await t.host.ensureFork({ repo: upstream, namespace: 'bots' });
    expect(fork).toBe(`${t.config.host}/bots/oss-lib`);
    expect(t.sim.state.getRepository('bots', 'oss-lib')).toMatchObject({ fork: true });
  });

  it('waits for a fork GitHub is still making, and fails retryable when it takes longer than allowed', async () => {
    await t.sim.control.call('createRepo', {
      owner: 'oss',
      name: 'slow',
      files: { 'a.txt': 'a\n' },
    });
    await t.sim.control.call('createRepo', {
      owner: 'oss',
      name: 'slower',
      files: { 'a.txt': 'a\n' },
    });
    await t.sim.control.call('configureFaults', { forkDelayMs: 700 });
    try {
      const logs = t.logs.length;
      expect(await t.host.ensureFork({ repo: `${t.config.host}/oss/slow` })).toBe(
        `${t.config.host}/campaigns-bot/oss-slow`,
      );
      expect(t.logs.slice(logs).some((l) => l.includes('waiting'))).toBe(true);

      await t.sim.control.call('configureFaults', { forkDelayMs: 60_000 });
      const impatient = new GithubCodeHost(t.config, {
        writeSpacingMs: 0,
        notificationSpacingMs: 0,
        forkReadyTimeoutMs: 600,
      });
      const error = await errorOf(impatient.ensureFork({ repo: `${t.config.host}/oss/slower` }));
      expect(error.kind).toBe('retryable');
      expect(error.message).toContain('did not serve it within');
    } finally {
      await t.sim.control.call('configureFaults', { forkDelayMs: 0 });
    }
  });

  it('refuses a repository of the fork’s name that is not a fork of the upstream repository', async () => {
    await t.sim.control.call('createRepo', { owner: 'oss', name: 'other' });
    await t.sim.control.call('createRepo', { owner: 'campaigns-bot', name: 'oss-other' });
    const error = await errorOf(t.host.ensureFork({ repo: `${t.config.host}/oss/other` }));
    expect(error.kind).toBe('terminal');
    expect(error.message).toContain(
      'campaigns-bot/oss-other exists and is not a fork of oss/other',
    );
  });

  it('pushes to the fork and opens, finds, loads and changes the pull request from it on the upstream repository', async () => {
    // Given the fork and a commit on the upstream's default branch, pushed to the fork only.
    const fork = await t.host.ensureFork({ repo: upstream });
    const clone = join(work, 'clone');
    await exec('git', ['clone', '--quiet', `${t.sim.url}/oss/lib.git`, clone]);
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
    await t.host.pushBranch({
      repo: fork,
      localRepoPath: clone,
      commitSha: sha,
      branch: 'hello',
      force: true,
    });
    expect(t.sim.state.getRepository('campaigns-bot', 'oss-lib')!.branches.hello).toBe(sha);
    expect(t.sim.state.getRepository('oss', 'lib')!.branches.hello).toBeUndefined();

    // When the pull request is opened from the fork (twice: the second finds the first).
    const input = {
      repo: upstream,
      head: 'hello',
      headRepository: fork,
      base: 'main',
      title: 'Hello',
      body: 'From a fork',
      draft: true,
    };
    const pr = await t.host.createChangeset(input);
    expect(pr).toMatchObject({
      repo: upstream,
      state: 'OPEN',
      headRefName: 'hello',
      headRefOid: sha,
    });
    const pull = t.sim.state.getPullRequest(t.sim.state.getRepository('oss', 'lib')!, pr.number)!;
    expect(t.sim.state.getRepositoryById(pull.head.repository_id)).toMatchObject({
      owner: 'campaigns-bot',
      name: 'oss-lib',
    });
    expect((await t.host.createChangeset(input)).number).toBe(pr.number);

    // Then it is found by its head in the fork, not by a branch of the upstream repository.
    expect((await t.host.findOpenChangeset(upstream, 'hello', fork))?.number).toBe(pr.number);
    expect(await t.host.findOpenChangeset(upstream, 'hello')).toBeUndefined();
    const [observed] = await t.host.loadChangesets([{ repo: upstream, number: pr.number }]);
    expect(observed).toMatchObject({ state: 'OPEN', headRefName: 'hello', headRefOid: sha });

    // And the bot, its author without write access upstream, can still change it as GitHub lets it.
    const ref = { repo: upstream, number: pr.number };
    expect((await t.host.markReadyForReview(ref)).isDraft).toBe(false);
    expect((await t.host.updateChangeset({ ...ref, title: 'Hello again' })).title).toBe(
      'Hello again',
    );
    const closed = await t.host.closeChangeset(ref);
    expect(closed.state).toBe('CLOSED');
    expect((await t.host.reopenChangeset(ref)).state).toBe('OPEN');
  });
});
