import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { replayProjection, type ChangesetSpecData } from '@campaigns/events';
import { changesetProjection } from '../projection/changeset-projection.js';
import { RECONCILER_SCHEMA } from '../reconciler-service.definition.js';
import {
  eventually,
  makeDiff,
  readCommit,
  startHarness,
  TestChangeset,
  workspaceChange,
  type Harness,
} from '../test-support/reconciler-harness.js';

type SpecFields = Omit<ChangesetSpecData, 'diff' | 'files'>;

interface SimPull {
  number: number;
  state: string;
  head: { ref: string; sha: string; label: string; repo: { full_name: string; fork: boolean } };
}

const README = '# api\n';

async function createRepos(h: Harness, names: readonly string[]): Promise<void> {
  for (const name of names)
    await h.sim.sim.control.call('createRepo', {
      owner: 'acme',
      name,
      files: { 'README.md': README },
    });
}

function baseSpec(h: Harness, repo: string, overrides: Partial<SpecFields> = {}): SpecFields {
  return {
    baseRef: 'main',
    baseRevision: h.sim.sim.state.getRepository('acme', repo.split('/').at(-1)!)!.branches.main!,
    title: 'Hello World',
    body: 'My first campaign!',
    commit: { message: 'Say hello', author: { name: 'Ada Lovelace', email: 'ada@example.com' } },
    published: true,
    ...overrides,
  };
}

async function pulls(h: Harness, name: string): Promise<SimPull[]> {
  const response = await fetch(`${h.sim.sim.apiUrl}/repos/acme/${name}/pulls?state=all`, {
    headers: { authorization: `token ${h.sim.token}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as SimPull[];
}

const branchesOf = (h: Harness, owner: string, name: string) =>
  h.sim.sim.state.getRepository(owner, name)?.branches;

describe('reconciler pushes to forks (changesetTemplate.fork) against the GitHub simulator', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createRepos(h, ['api', 'web']);
    await h.startWorker();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 60_000);

  it('given fork true, pushes the branch to a fork in the bot’s namespace, opens the PR from it, and pushes a changed spec there too', async () => {
    // Given a spec with fork: true whose workspace carries its tree and pack.
    const repo = h.sim.repo('api');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const change = await workspaceChange(h, 'api', { 'README.md': `${README}Hello\n` });
    const since = (await h.sim.sim.control.requests({})).at(-1)?.seq ?? 0;
    const specId = await cs.computed(
      baseSpec(h, repo, { fork: true, baseRevision: change.baseRevision }),
      change.diff,
      change.tree,
    );

    // When it is reconciled, then the branch is in the fork and the PR is opened from it.
    const reconciled = await cs.waitFor('ChangesetReconciled', specId);
    expect(reconciled.data['operations']).toEqual(['push', 'publish']);
    const fork = `${h.sim.config.host}/campaigns-bot/acme-api`;
    const push = (await cs.events()).find((e) => e.type === 'ChangesetUpdated')!;
    expect(push.data).toMatchObject({ operation: 'push', headRepository: fork });
    const [pr, ...others] = await pulls(h, 'api');
    expect(others).toEqual([]);
    expect(pr).toMatchObject({
      state: 'open',
      head: {
        label: 'campaigns-bot:hello-world',
        ref: 'hello-world',
        repo: { full_name: 'campaigns-bot/acme-api', fork: true },
      },
    });
    expect(branchesOf(h, 'campaigns-bot', 'acme-api')?.['hello-world']).toBe(pr!.head.sha);
    expect(branchesOf(h, 'acme', 'api')?.['hello-world']).toBeUndefined();
    // The workspace's pack went to the fork in one request, with nothing fetched first: the
    // fork shares the upstream's objects.
    const git = (await h.sim.sim.control.requests({ since })).filter((r) => r.kind === 'git');
    expect(git.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /campaigns-bot/acme-api.git/git-receive-pack',
    ]);

    // When the spec's diff changes (no tree: the commit is built with git from the upstream).
    const next = await cs.computed(
      baseSpec(h, repo, { fork: true, baseRevision: change.baseRevision }),
      await makeDiff({ 'README.md': README }, { 'README.md': `${README}Hello again\n` }),
    );

    // Then the fork's branch moves and the PR follows; the upstream still has no branch.
    const again = await cs.waitFor('ChangesetReconciled', next);
    expect(again.data['operations']).toEqual(['push', 'sync']);
    const [updated] = await pulls(h, 'api');
    expect(updated!.number).toBe(pr!.number);
    expect(updated!.head.sha).not.toBe(pr!.head.sha);
    expect(branchesOf(h, 'campaigns-bot', 'acme-api')?.['hello-world']).toBe(updated!.head.sha);
    expect(branchesOf(h, 'acme', 'api')?.['hello-world']).toBeUndefined();
    const commit = await readCommit(h, 'campaigns-bot/acme-api', updated!.head.sha, 'README.md');
    expect(commit.content).toBe(`${README}Hello again\n`);
  }, 60_000);

  it('given a changeset published from the repository itself, keeps pushing there when fork becomes true', async () => {
    const repo = h.sim.repo('web');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const first = await cs.computed(
      baseSpec(h, repo),
      await makeDiff({ 'README.md': README }, { 'README.md': `${README}Hello\n` }),
    );
    await cs.waitFor('ChangesetReconciled', first);

    const next = await cs.computed(
      baseSpec(h, repo, { fork: true }),
      await makeDiff({ 'README.md': README }, { 'README.md': `${README}Hi\n` }),
    );
    await cs.waitFor('ChangesetReconciled', next);

    const [pr, ...others] = await pulls(h, 'web');
    expect(others).toEqual([]);
    expect(pr!.head.repo.full_name).toBe('acme/web');
    expect(branchesOf(h, 'acme', 'web')?.['hello-world']).toBe(pr!.head.sha);
    expect(h.sim.sim.state.getRepository('campaigns-bot', 'acme-web')).toBeUndefined();
  }, 60_000);

  it('keeps a projection, the forks included, that a replay from the store reproduces', async () => {
    // Eventually: the projection may still be taking the last round's events.
    expect(
      await eventually(async () => {
        const report = await replayProjection({
          store: h.store,
          database: h.database,
          projection: changesetProjection(),
          liveSchema: RECONCILER_SCHEMA,
        });
        return report.equal && report.eventsReplayed > 0;
      }),
    ).toBe(true);
    const [forked] = (await h.database.query(
      `SELECT head_repository FROM ${RECONCILER_SCHEMA}.changesets WHERE repository = $1`,
      [h.sim.repo('api')],
    )) as { head_repository: string | null }[];
    expect(forked?.head_repository).toBe(`${h.sim.config.host}/campaigns-bot/acme-api`);
  }, 60_000);
});

describe("reconciler with the code host's fork default", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ codeHostSettings: ['fork: true', 'forkNamespace: bots'] });
    await h.sim.sim.control.call('createOrg', { login: 'bots', members: ['campaigns-bot'] });
    await createRepos(h, ['api', 'web']);
    await h.startWorker();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 60_000);

  it('forks into the configured namespace when the spec does not say, and not when the spec says fork: false', async () => {
    const diff = () => makeDiff({ 'README.md': README }, { 'README.md': `${README}Hello\n` });
    const byDefault = new TestChangeset(h, h.sim.repo('api'), 'hello-world');
    const optedOut = new TestChangeset(h, h.sim.repo('web'), 'hello-world');
    const a = await byDefault.computed(baseSpec(h, h.sim.repo('api')), await diff());
    const b = await optedOut.computed(
      baseSpec(h, h.sim.repo('web'), { fork: false }),
      await diff(),
    );
    await byDefault.waitFor('ChangesetReconciled', a);
    await optedOut.waitFor('ChangesetReconciled', b);

    const [fromFork] = await pulls(h, 'api');
    expect(fromFork!.head.repo.full_name).toBe('bots/acme-api');
    expect(branchesOf(h, 'acme', 'api')?.['hello-world']).toBeUndefined();
    const [fromUpstream] = await pulls(h, 'web');
    expect(fromUpstream!.head.repo.full_name).toBe('acme/web');
    expect(h.sim.sim.state.getRepository('bots', 'acme-web')).toBeUndefined();
  }, 60_000);
});
