import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChangesetSpecData } from '@campaigns/events';
import {
  diffOfCommit,
  startHarness,
  TestChangeset,
  workspaceChange,
  type Harness,
  type WorkspaceChange,
} from '../test-support/reconciler-harness.js';
import { buildCommit } from './commit-builder.js';

type SpecFields = Omit<ChangesetSpecData, 'diff' | 'files' | 'tree'>;

describe('publishing changesets that carry their tree and pack', () => {
  let h: Harness;
  const README = '# repo\n';
  const spec = (change: WorkspaceChange): SpecFields => ({
    baseRef: 'main',
    baseRevision: change.baseRevision,
    title: 'Hello World',
    body: 'My first campaign!',
    commit: {
      message: 'Append Hello to .md files\n\nWith a body.  \n',
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
    },
    published: true,
  });
  const hello = (name: string) =>
    workspaceChange(h, name, { 'README.md': `${README}Hello\n`, 'docs/new.md': `# ${name}\n` });

  /** The requests since `seq` that name `name`'s repository, as `METHOD path-after-the-repo`. */
  const requestsFor = async (seq: number, name: string) =>
    (await h.sim.sim.control.requests({ since: seq }))
      .filter((r) => r.path.includes(`/acme/${name}/`) || r.path.includes(`/acme/${name}.git/`))
      .map((r) => `${r.method} ${r.path.replace(/^.*\/acme\/[^/]+?(\.git)?\//, '')}`);
  const lastSeq = async () => (await h.sim.sim.control.requests({})).at(-1)?.seq ?? 0;

  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  async function createRepos(prefix: string, count: number): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    for (const name of names) {
      await h.sim.sim.control.call('createRepo', {
        owner: 'acme',
        name,
        files: { 'README.md': README },
      });
    }
    return names;
  }

  it("publishes each with one push and one PR request, and reads nothing back: the answers are the host's view", async () => {
    // Given twelve repositories and a worker whose reads wait for all twelve rounds.
    const names = await createRepos('packed', 12);
    const changes = await Promise.all(names.map((name) => hello(name)));
    const worker = await h.startWorker({
      concurrency: 12,
      reads: { maxBatch: 12, maxWaitMs: 60_000 },
    });
    const seq = await lastSeq();

    // When the desired state of each arrives with its tree and pack.
    const changesets = names.map((name) => new TestChangeset(h, h.sim.repo(name), 'hello-world'));
    const specIds = await Promise.all(
      changesets.map((cs, i) => cs.computed(spec(changes[i]!), changes[i]!.diff, changes[i]!.tree)),
    );
    const reconciled = await Promise.all(
      changesets.map((cs, i) => cs.waitFor('ChangesetReconciled', specIds[i]!, 60_000)),
    );
    await worker.stop();

    // Then each took one git request and one REST request, and the reads one query in all.
    for (const [i, name] of names.entries()) {
      expect(reconciled[i]!.data['operations']).toEqual(['push', 'publish']);
      expect(await requestsFor(seq, name)).toEqual(['POST git-receive-pack', 'POST pulls']);
    }
    const graphql = (await h.sim.sim.control.requests({ since: seq })).filter(
      (r) => r.kind === 'graphql',
    );
    expect(graphql).toHaveLength(0);

    // And every PR's head commit changes exactly what the spec's diff says.
    for (const [i, cs] of changesets.entries()) {
      const pushed = (await cs.events()).find((e) => e.data['operation'] === 'push')!;
      const sha = pushed.data['commitSha'] as string;
      const diff = await diffOfCommit(h, names[i]!, changes[i]!.baseRevision, sha);
      expect(diff.toString('latin1')).toBe(changes[i]!.diff.toString('latin1'));
    }
  }, 120_000);

  it('pushes the very commit that fetching the base and applying the diff with git makes', async () => {
    const [name] = await createRepos('same-commit', 1);
    const change = await hello(name!);
    const worker = await h.startWorker();
    const cs = new TestChangeset(h, h.sim.repo(name!), 'hello-world');
    const specId = await cs.computed(spec(change), change.diff, change.tree);
    await cs.waitFor('ChangesetReconciled', specId);
    await worker.stop();

    const pushed = (await cs.events()).find((e) => e.data['operation'] === 'push')!;
    const specEvent = (await cs.events()).find((e) => e.event_id === specId)!;
    const config = h.config.codeHosts[0]!;
    const built = await buildCommit({
      repo: h.sim.repo(name!),
      remoteUrl: `${h.sim.sim.url}/acme/${name!}.git`,
      token: config.token,
      baseRef: 'main',
      baseRevision: change.baseRevision,
      diff: change.diff,
      message: spec(change).commit.message,
      author: spec(change).commit.author,
      date: specEvent.recorded_at,
    });
    await built.dispose();
    expect(pushed.data['commitSha']).toBe(built.commitSha);
  }, 60_000);

  it('fetches the base and applies the diff when the spec has no tree', async () => {
    const [name] = await createRepos('no-tree', 1);
    const change = await hello(name!);
    const worker = await h.startWorker();
    const seq = await lastSeq();
    const cs = new TestChangeset(h, h.sim.repo(name!), 'hello-world');

    const specId = await cs.computed(spec(change), change.diff);

    expect((await cs.waitFor('ChangesetReconciled', specId)).data['operations']).toEqual([
      'push',
      'publish',
    ]);
    await worker.stop();
    const requests = await requestsFor(seq, name!);
    expect(requests).toContain('POST git-upload-pack');
    expect(requests).toContain('POST git-receive-pack');
    const pushed = (await cs.events()).find((e) => e.data['operation'] === 'push')!;
    const diff = await diffOfCommit(
      h,
      name!,
      change.baseRevision,
      pushed.data['commitSha'] as string,
    );
    expect(diff.toString('latin1')).toBe(change.diff.toString('latin1'));
  }, 60_000);

  it('falls back to fetching and applying when the host refuses the pack, and pushes the same commit', async () => {
    // Given a pack that lacks the new README blob, so the host cannot connect the commit.
    const [name] = await createRepos('refused', 1);
    const complete = await hello(name!);
    const broken = await workspaceChange(
      h,
      name!,
      { 'README.md': `${README}Hello\n`, 'docs/new.md': `# ${name!}\n` },
      {
        packObjects: (objects) =>
          objects
            .split('\n')
            .filter((line) => !line.endsWith(' README.md'))
            .join('\n'),
      },
    );
    expect(broken.tree.sha).toBe(complete.tree.sha);
    expect(broken.tree.pack.length).toBeLessThan(complete.tree.pack.length);
    const worker = await h.startWorker();
    const seq = await lastSeq();
    const cs = new TestChangeset(h, h.sim.repo(name!), 'hello-world');

    const specId = await cs.computed(spec(broken), broken.diff, broken.tree);

    expect((await cs.waitFor('ChangesetReconciled', specId)).data['operations']).toEqual([
      'push',
      'publish',
    ]);
    await worker.stop();
    const requests = await requestsFor(seq, name!);
    expect(requests.slice(0, 2)).toEqual(['POST git-receive-pack', 'GET info/refs']);
    expect(requests).toContain('POST git-upload-pack');
    expect(requests.at(-1)).toBe('POST pulls');
    const pushed = (await cs.events()).find((e) => e.data['operation'] === 'push')!;
    const diff = await diffOfCommit(
      h,
      name!,
      broken.baseRevision,
      pushed.data['commitSha'] as string,
    );
    expect(diff.toString('latin1')).toBe(broken.diff.toString('latin1'));
  }, 60_000);
});
