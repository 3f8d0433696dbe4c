import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim } from '../github-sim.js';
import { gitCli, tempDir } from '../test-support/clients.js';

describe('persistence with a data directory', () => {
  let data: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    data = await tempDir();
  });

  afterAll(async () => {
    await data.cleanup();
  });

  it('keeps accounts, tokens, repositories, branches and pull requests across a restart', async () => {
    // Given a simulator with a seeded repo, a pushed branch and an open pull request.
    const first = await startGithubSim({ dataDir: data.path, repos: 2 });
    await first.control.createUser({ login: 'dev' });
    await first.control.addMember({ org: 'acme', login: 'dev' });
    await first.control.createToken({ login: 'dev', token: 'dev-token' });
    const { sha } = await first.control.pushCommit({
      owner: 'acme',
      name: 'repo-00001',
      branch: 'topic',
      files: { 'a.txt': 'a\n' },
      actor: 'dev',
    });
    const pull = await first.control.openPullRequest({
      owner: 'acme',
      name: 'repo-00001',
      head: 'topic',
      title: 'Keep me',
      actor: 'dev',
    });
    await first.stop();

    // When it restarts on the same directory (asking for seeding again changes nothing).
    const second = await startGithubSim({ dataDir: data.path, repos: 2 });
    try {
      // Then everything is there, and git serves the same commits.
      expect(second.state.listRepositories()).toHaveLength(2);
      const kept = await second.control.getPullRequest({
        owner: 'acme',
        name: 'repo-00001',
        number: pull.number,
      });
      expect(kept).toMatchObject({ title: 'Keep me', state: 'open', head: { sha } });
      const response = await fetch(`${second.apiUrl}/repos/acme/repo-00001/pulls/${pull.number}`, {
        headers: { authorization: 'token dev-token' },
      });
      expect(response.status).toBe(200);
      const clone = await tempDir();
      await gitCli(clone.path, [
        'clone',
        '--quiet',
        '--branch',
        'topic',
        second.gitUrl('acme/repo-00001', 'dev-token'),
        'c',
      ]);
      expect(await gitCli(`${clone.path}/c`, ['rev-parse', 'HEAD'])).toBe(sha);
      await clone.cleanup();
      await second.control.pushCommit({
        owner: 'acme',
        name: 'repo-00002',
        branch: 'x',
        files: { x: 'x' },
      });
      const next = await second.control.openPullRequest({
        owner: 'acme',
        name: 'repo-00002',
        head: 'x',
        title: 'New ids do not collide',
      });
      expect(next.id).toBeGreaterThan(kept.id);
    } finally {
      await second.stop();
    }
  });
});
