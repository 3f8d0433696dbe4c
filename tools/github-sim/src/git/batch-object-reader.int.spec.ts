import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubSim, type GithubSim } from '../github-sim.js';
import {
  BatchObjectReader,
  LayeredObjectReader,
  listTreeRecursive,
} from './batch-object-reader.js';

describe('reading trees through one long-lived git process', () => {
  let sim: GithubSim;
  let reader: BatchObjectReader;

  beforeAll(async () => {
    // Ten seeded repositories cover every synthetic template, nested directories included.
    sim = await startGithubSim({ repos: 10 });
    reader = new BatchObjectReader(sim.core.store.sharedObjectsDir);
  });

  afterAll(async () => {
    reader?.close();
    await sim?.stop();
  });

  /** What two git processes answer: the tree of a commit and `ls-tree --long` of it. */
  async function gitListing(name: string, sha: string, recursive: boolean) {
    const { store } = sim.core;
    const path = store.pathOf('acme', name);
    const tree = (await store.treeOf(path, sha))!;
    return { tree, entries: await store.lsTree(path, tree, recursive) };
  }

  it('lists every seeded repository’s tree exactly as git ls-tree -r -t --long does', async () => {
    let subtrees = 0;
    for (const repository of sim.state.listRepositories()) {
      const sha = repository.branches.main!;
      const expected = await gitListing(repository.name, sha, true);

      expect(await listTreeRecursive(reader, sha)).toEqual(expected);
      subtrees += expected.entries.filter((e) => e.type === 'tree').length;
    }
    expect(subtrees).toBeGreaterThan(0);
  });

  it('answers many listings at once in order, each its own', async () => {
    const repositories = sim.state.listRepositories();
    const listed = await Promise.all(
      repositories.map((r) => listTreeRecursive(reader, r.branches.main!)),
    );
    for (const [i, repository] of repositories.entries()) {
      expect(listed[i]).toEqual(await gitListing(repository.name, repository.branches.main!, true));
    }
  });

  it('leaves a commit the shared store does not hold to git, and the API still lists it', async () => {
    const pushed = await sim.control.pushCommit({
      owner: 'acme',
      name: 'repo-00003',
      branch: 'main',
      files: { 'deep/er/file.txt': 'x\n' },
    });

    expect(await listTreeRecursive(reader, pushed.sha)).toBeUndefined();
    const path = sim.core.store.pathOf('acme', 'repo-00003');
    const listed = await sim.core.store.listTree(path, pushed.sha, true);
    expect(listed).toEqual(await gitListing('repo-00003', pushed.sha, true));
    expect(listed!.entries.map((e) => e.path)).toContain('deep/er/file.txt');
  });

  it('lists only the top level when not recursive, as git does', async () => {
    const repository = sim.state.getRepository('acme', 'repo-00002')!;
    const path = sim.core.store.pathOf('acme', 'repo-00002');
    const sha = repository.branches.main!;

    expect(await sim.core.store.listTree(path, sha, false)).toEqual(
      await gitListing('repo-00002', sha, false),
    );
    expect(await sim.core.store.listTree(path, 'f'.repeat(40), true)).toBeNull();
  });
});

describe("a repository's layered reader", () => {
  let sim: GithubSim;
  beforeAll(async () => {
    sim = await startGithubSim({ repos: 2 });
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('reads a seeded commit from the shared store, a pushed one from memory, and the rest from the repository', async () => {
    const { store } = sim.core;
    const repository = sim.state.listRepositories()[0]!;
    const path = store.pathOf('acme', repository.name);
    const seeded = repository.branches.main!;
    const own = new BatchObjectReader(path);
    const asked: string[][] = [];
    // The repository's own reader, counting what reaches it.
    const counted = {
      read: (command: 'info' | 'contents', ids: readonly string[]) => {
        asked.push([...ids]);
        return own.read(command, ids);
      },
    };
    const shared = new BatchObjectReader(store.sharedObjectsDir);
    try {
      const layered = new LayeredObjectReader(shared, counted);
      const [commit] = await layered.read('contents', [seeded]);
      expect(commit?.type).toBe('commit');
      expect(asked).toEqual([]);

      const pushed = { id: 'f'.repeat(40), type: 'blob', data: Buffer.from('pushed\n') };
      layered.remember([pushed]);
      expect(await layered.read('info', [pushed.id])).toEqual([{ type: 'blob', size: 7 }]);
      expect(asked).toEqual([]);

      // Not in memory nor in the shared store: the repository is asked, and says it has none.
      const unknown = '0'.repeat(39) + '1';
      expect(await layered.read('info', [seeded, unknown])).toEqual([
        { type: 'commit', size: commit!.size },
        undefined,
      ]);
      expect(asked).toEqual([[unknown]]);
    } finally {
      own.close();
      shared.close();
    }
  });
});
