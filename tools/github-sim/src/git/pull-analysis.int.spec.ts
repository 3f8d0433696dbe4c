import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import { RepoStore } from './repo-store.js';

describe('analysing a pull request without git processes of its own', () => {
  let sim: GithubSim;
  const repo = { owner: 'acme', name: 'repo-00001' };
  let path: string;
  let gitOnly: RepoStore;
  const push = async (branch: string, files: Record<string, string | null>, fromBranch?: string) =>
    (
      await sim.control.pushCommit({
        ...repo,
        branch,
        files,
        ...(fromBranch ? { fromBranch } : {}),
      })
    ).sha;

  /** What git says: merge-tree for mergeability, rev-list and diff-tree for the statistics. */
  const byGit = async (base: string, head: string) => ({
    mergeable: (await gitOnly.mergeTrees(path, base, head)) !== null,
    stats: await gitOnly.diffStats(path, base, head),
  });

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 1, org: 'acme' });
    path = sim.core.store.pathOf(repo.owner, repo.name);
    gitOnly = new RepoStore(sim.core.store.root);
  });
  afterAll(async () => {
    gitOnly.close();
    await sim.stop();
  });

  it('agrees with git on a line of commits that add, change and remove files', async () => {
    const main = sim.state.requireRepository(repo.owner, repo.name).branches.main!;
    const ten = Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join('');
    const c1 = await push('feature', { 'src/deep/a.txt': ten, 'b.txt': 'b\nno newline' }, 'main');
    const c2 = await push('feature', {
      'src/deep/a.txt': ten.replace('line 3\n', 'three\n').replace('line 7\n', '') + 'more\n',
      'b.txt': 'b\nno newline\n',
      'bin.dat': 'x\u0000y\n',
    });
    const c3 = await push('feature', { 'b.txt': null });
    const pairs: [string, string][] = [
      [main, c1],
      [main, c2],
      [c1, c2],
      [c2, c3],
      [main, c3],
    ];
    for (const [base, head] of pairs) {
      const analysed = await sim.core.store.analysePull(path, base, head);
      expect(analysed).toBeDefined();
      expect({ base, head, ...analysed }).toEqual({ base, head, ...(await byGit(base, head)) });
    }
    // A sanity check that the comparison sees something: the second commit's own changes.
    expect((await sim.core.store.analysePull(path, c1, c2))!.stats).toEqual({
      commits: 1,
      additions: 3,
      deletions: 3,
      changed_files: 3,
    });
  });

  it('leaves to git what it cannot answer exactly: possible renames, a base not on the way', async () => {
    const main = sim.state.requireRepository(repo.owner, repo.name).branches.main!;
    const r1 = await push('renaming', { 'old.txt': 'same\ncontent\n' }, 'main');
    const r2 = await push('renaming', { 'old.txt': null, 'new.txt': 'same\ncontent\n' });
    expect(await sim.core.store.analysePull(path, r1, r2)).toBeUndefined();
    expect((await byGit(r1, r2)).stats.changed_files).toBe(1); // git saw the rename

    const side = await push('side', { 'side.txt': 'side\n' }, 'main');
    expect(await sim.core.store.analysePull(path, side, r2)).toBeUndefined();
    expect(await sim.core.store.analysePull(path, r2, main)).toBeUndefined();
  });

  it('opens a pull request with its statistics and knows it mergeable on the first read', async () => {
    await push('stats', { 'one.txt': 'one\ntwo\n' }, 'main');
    const pull = await sim.control.openPullRequest({
      ...repo,
      head: 'stats',
      base: 'main',
      title: 't',
    });
    const stored = sim.state.getPullRequest(
      sim.state.requireRepository(repo.owner, repo.name),
      pull.number,
    )!;
    expect(stored).toMatchObject({ commits: 1, additions: 2, deletions: 0, changed_files: 1 });
    expect(stored.mergeable).toBeNull();
    await sim.core.pulls.ensureComputed(sim.state.requireRepository(repo.owner, repo.name), stored);
    expect(stored.mergeable).toBe(true);
  });
});
