import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import type { StateChange } from '../state/events.js';
import { gitCli, tempDir } from '../test-support/clients.js';

describe('git over smart HTTP', () => {
  let sim: GithubSim;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const changes: StateChange[] = [];
  const TOKEN = 'dev-token';

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 3 });
    await sim.control.createUser({ login: 'dev', email: 'dev@example.com' });
    await sim.control.addMember({ org: 'acme', login: 'dev' });
    await sim.control.createToken({ login: 'dev', token: TOKEN });
    await sim.control.createUser({ login: 'reader' });
    await sim.control.createToken({ login: 'reader', token: 'reader-token' });
    sim.state.on('change', (change) => changes.push(change));
    work = await tempDir();
  });

  afterAll(async () => {
    await sim.stop();
    await work.cleanup();
  });

  it('clones a seeded repository that borrows its objects, with the files the API describes', async () => {
    await gitCli(work.path, ['clone', '--quiet', sim.gitUrl('acme/repo-00001', TOKEN), 'clone1']);
    const readme = await readFile(join(work.path, 'clone1', 'README.md'), 'utf8');
    expect(readme).toContain('# repo-00001');
    expect(await gitCli(join(work.path, 'clone1'), ['rev-parse', 'HEAD'])).toBe(
      sim.state.getRepository('acme', 'repo-00001')!.branches.main,
    );
  });

  it('clones a public repository anonymously and refuses an anonymous push with a 401 challenge', async () => {
    await gitCli(work.path, ['clone', '--quiet', sim.gitUrl('acme/repo-00002'), 'anonymous']);
    const dir = join(work.path, 'anonymous');
    await gitCli(dir, ['commit', '--allow-empty', '-m', 'anon']);
    await expect(gitCli(dir, ['push', 'origin', 'HEAD:refs/heads/anon'])).rejects.toThrow(
      /Authentication failed|could not read Username|401/,
    );
  });

  it('refuses a push from a token without write access with 403', async () => {
    const dir = join(work.path, 'clone1');
    await gitCli(dir, ['commit', '--allow-empty', '-m', 'nope']);
    await expect(
      gitCli(dir, ['push', sim.gitUrl('acme/repo-00001', 'reader-token'), 'HEAD:refs/heads/nope']),
    ).rejects.toThrow(/403|denied/);
  });

  it('pushes a branch: the state, the API and the change feed follow, and a PR synchronizes on the next push', async () => {
    const dir = join(work.path, 'clone1');
    await gitCli(dir, ['checkout', '--quiet', '-b', 'feature']);
    await writeFile(join(dir, 'NEW.md'), 'new\n');
    await gitCli(dir, ['add', 'NEW.md']);
    await gitCli(dir, ['commit', '--quiet', '-m', 'Add NEW.md']);
    changes.length = 0;
    await gitCli(dir, ['push', '--quiet', 'origin', 'feature']);
    const head = await gitCli(dir, ['rev-parse', 'HEAD']);
    expect(sim.state.getRepository('acme', 'repo-00001')!.branches.feature).toBe(head);
    const push = changes.find((c) => c.type === 'push');
    expect(push).toMatchObject({
      ref: 'refs/heads/feature',
      after: head,
      created: true,
      forced: false,
      pusher: { login: 'dev' },
    });
    expect(push?.type === 'push' && push.commits.map((c) => [c.message, c.added])).toEqual([
      ['nope', []],
      ['Add NEW.md', ['NEW.md']],
    ]);

    const pull = await sim.control.openPullRequest({
      owner: 'acme',
      name: 'repo-00001',
      head: 'feature',
      title: 'New',
      actor: 'dev',
    });
    await writeFile(join(dir, 'NEW.md'), 'newer\n');
    await gitCli(dir, ['commit', '--quiet', '-am', 'Change NEW.md']);
    changes.length = 0;
    await gitCli(dir, ['push', '--quiet', 'origin', 'feature']);
    const synchronize = changes.find(
      (c) => c.type === 'pull_request' && c.action === 'synchronize',
    );
    expect(synchronize).toMatchObject({ before: head, pullRequest: { number: pull.number } });
    expect(
      (await sim.control.getPullRequest({ owner: 'acme', name: 'repo-00001', number: pull.number }))
        .head.sha,
    ).toBe(await gitCli(dir, ['rev-parse', 'HEAD']));
  });

  it('force-pushes and deletes a branch; deleting the head branch closes its pull request', async () => {
    const dir = join(work.path, 'clone1');
    await gitCli(dir, ['reset', '--quiet', '--hard', 'HEAD~1']);
    await gitCli(dir, ['commit', '--quiet', '--amend', '--allow-empty', '-m', 'Rewritten']);
    changes.length = 0;
    await gitCli(dir, ['push', '--quiet', '--force', 'origin', 'feature']);
    expect(changes.find((c) => c.type === 'push')).toMatchObject({ forced: true });

    changes.length = 0;
    await gitCli(dir, ['push', '--quiet', 'origin', '--delete', 'feature']);
    expect(sim.state.getRepository('acme', 'repo-00001')!.branches.feature).toBeUndefined();
    expect(changes.find((c) => c.type === 'push')).toMatchObject({ deleted: true });
    expect(changes.find((c) => c.type === 'pull_request')).toMatchObject({
      action: 'closed',
      pullRequest: { merged: false },
    });
  });

  it('marks a pull request merged when its head is pushed onto the base', async () => {
    const dir = join(work.path, 'clone1');
    await gitCli(dir, ['checkout', '--quiet', '-b', 'landing']);
    await writeFile(join(dir, 'LAND.md'), 'land\n');
    await gitCli(dir, ['add', 'LAND.md']);
    await gitCli(dir, ['commit', '--quiet', '-m', 'Land']);
    await gitCli(dir, ['push', '--quiet', 'origin', 'landing']);
    const pull = await sim.control.openPullRequest({
      owner: 'acme',
      name: 'repo-00001',
      head: 'landing',
      title: 'Land',
      actor: 'dev',
    });
    await gitCli(dir, ['push', '--quiet', 'origin', 'landing:main']);
    const after = await sim.control.getPullRequest({
      owner: 'acme',
      name: 'repo-00001',
      number: pull.number,
    });
    expect(after).toMatchObject({
      state: 'closed',
      merged: true,
      merge_commit_sha: await gitCli(dir, ['rev-parse', 'HEAD']),
    });
  });

  it('fetches over protocol v2 and refuses pushes to archived repositories', async () => {
    await gitCli(work.path, [
      '-c',
      'protocol.version=2',
      'clone',
      '--quiet',
      sim.gitUrl('acme/repo-00003', TOKEN),
      'v2',
    ]);
    await sim.control.archiveRepo({ owner: 'acme', name: 'repo-00003' });
    const dir = join(work.path, 'v2');
    await gitCli(dir, ['commit', '--allow-empty', '-m', 'late']);
    await expect(gitCli(dir, ['push', 'origin', 'HEAD:refs/heads/late'])).rejects.toThrow(
      /archived|403/,
    );
  });
});
