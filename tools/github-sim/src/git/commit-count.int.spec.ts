import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import { RepoStore } from './repo-store.js';

describe('counting a pull request’s commits without git', () => {
  let sim: GithubSim;
  const repo = { owner: 'acme', name: 'repo-00001' };

  beforeAll(async () => {
    sim = await startGithubSim({ repos: 1, org: 'acme' });
  });
  afterAll(async () => sim.stop());

  it('agrees with git rev-list for every pair of a history with branches and a merge', async () => {
    // main ← a1 ← a2 (branch a), main ← b1 (branch b), a merged into b by the simulator.
    const shas: string[] = [sim.state.requireRepository(repo.owner, repo.name).branches.main!];
    for (const [branch, file] of [
      ['a', 'a1'],
      ['a', 'a2'],
      ['b', 'b1'],
    ] as const) {
      const { sha } = await sim.control.pushCommit({
        ...repo,
        branch,
        fromBranch: 'main',
        files: { [file]: file },
      });
      shas.push(sha);
    }
    const pull = await sim.control.openPullRequest({
      ...repo,
      head: 'a',
      base: 'b',
      title: 'a into b',
    });
    await sim.control.mergePullRequest({ ...repo, number: pull.number });
    shas.push(sim.state.requireRepository(repo.owner, repo.name).branches.b!);

    const path = sim.core.store.pathOf(repo.owner, repo.name);
    const gitOnly = new RepoStore(sim.core.store.root); // remembers nothing: always asks git
    for (const base of shas) {
      for (const head of shas) {
        expect([base, head, await sim.core.store.countCommits(path, base, head)]).toEqual([
          base,
          head,
          await gitOnly.countCommits(path, base, head),
        ]);
      }
    }
  });
});
