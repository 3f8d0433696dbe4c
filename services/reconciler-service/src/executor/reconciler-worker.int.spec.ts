import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChangesetSpecData } from '@campaigns/events';
import {
  eventually,
  makeDiff,
  readCommit,
  spawnWorkerProcess,
  startHarness,
  TestChangeset,
  type Harness,
} from '../test-support/reconciler-harness.js';
import { ReconcilerWorker, retryDelayMs } from './reconciler-worker.js';
import { replayProjection } from '@campaigns/events';
import { CHANGESET_PROJECTION, changesetProjection } from '../projection/changeset-projection.js';
import { RECONCILER_SCHEMA } from '../reconciler-service.definition.js';

type SpecFields = Omit<ChangesetSpecData, 'diff' | 'files'>;

interface SimPull {
  number: number;
  state: string;
  title: string;
  body: string | null;
  draft: boolean;
  merged_at: string | null;
  head: { ref: string; sha: string };
}

describe('reconciler worker against PostgreSQL, NATS, git and the GitHub simulator', () => {
  let h: Harness;
  const README = '# api\n';

  beforeAll(async () => {
    h = await startHarness();
    await createRepos(['api', 'web', 'cli', 'docs']);
    await h.startWorker();
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  /** Repositories of acme with the README every test starts from. */
  const createRepos = async (names: readonly string[]): Promise<void> => {
    for (const name of names) {
      await h.sim.sim.control.call('createRepo', {
        owner: 'acme',
        name,
        files: { 'README.md': README },
      });
    }
  };

  const baseSpec = async (
    repo: string,
    overrides: Partial<SpecFields> = {},
  ): Promise<SpecFields> => ({
    baseRef: 'main',
    baseRevision: (await h.sim.host.getRepository(repo)).headCommit!,
    title: 'Hello World',
    body: 'My first campaign!',
    commit: {
      message: 'Append Hello to .md files',
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
    },
    published: true,
    ...overrides,
  });

  const pulls = async (name: string): Promise<SimPull[]> => {
    const response = await fetch(`${h.sim.sim.apiUrl}/repos/acme/${name}/pulls?state=all`, {
      headers: { authorization: `token ${h.sim.token}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as SimPull[];
  };

  /** Requests since `since` that change something on the host: REST writes and git pushes. */
  const writesSince = async (since: number) =>
    (await h.sim.sim.control.requests({ since })).filter(
      (r) =>
        (r.kind === 'rest' && r.method !== 'GET') ||
        (r.kind === 'git' && r.path.includes('receive-pack')),
    );
  const lastSeq = async () => (await h.sim.sim.control.requests({})).at(-1)?.seq ?? 0;

  const hello = () => makeDiff({ 'README.md': README }, { 'README.md': `${README}Hello\n` });
  /** Long enough for the projection to take an observation and the worker to poll many times. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

  it('publishes a changeset: branch with the spec commit, PR with title and body', async () => {
    const repo = h.sim.repo('web');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const specId = await cs.computed(await baseSpec(repo), await hello());

    const reconciled = await cs.waitFor('ChangesetReconciled', specId);
    expect(reconciled.data['operations']).toEqual(['push', 'publish']);
    expect(reconciled.metadata).toMatchObject({
      causation_id: specId,
      correlation_id: cs.applyId,
      actor: 'ada',
      source: 'reconciler-service',
    });
    const [pr, ...others] = await pulls('web');
    expect(others).toEqual([]);
    expect(pr).toMatchObject({
      state: 'open',
      draft: false,
      title: 'Hello World',
      body: 'My first campaign!',
      head: { ref: 'hello-world' },
    });
    const commit = await readCommit(h, 'acme/web', pr!.head.sha, 'README.md');
    expect(commit).toEqual({
      author: 'Ada Lovelace <ada@example.com>',
      message: 'Append Hello to .md files',
      content: `${README}Hello\n`,
    });
    const types = await cs.typesAfter(1n);
    expect(types).toEqual(['ChangesetUpdated:push', 'ChangesetPublished', 'ChangesetReconciled']);
    const published = (await cs.events()).find((e) => e.type === 'ChangesetPublished')!;
    expect(published.data).toMatchObject({ number: pr!.number, headRefOid: pr!.head.sha });
  }, 60_000);

  it('walks one changeset through unpublished, draft, ready, edits, close, reopen and merge', async () => {
    const repo = h.sim.repo('api');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const diff = await hello();

    // published: false — nothing on the code host.
    let seq = await lastSeq();
    const unpublished = await cs.computed(await baseSpec(repo, { published: false }), diff);
    expect((await cs.waitFor('ChangesetReconciled', unpublished)).data['operations']).toEqual([]);
    expect(await writesSince(seq)).toEqual([]);
    expect(await pulls('api')).toEqual([]);

    // "draft" — a draft PR.
    const draft = await cs.computed(await baseSpec(repo, { published: 'draft' }), diff);
    expect((await cs.waitFor('ChangesetReconciled', draft)).data['operations']).toEqual([
      'push',
      'publish-draft',
    ]);
    const [first] = await pulls('api');
    expect(first).toMatchObject({ state: 'open', draft: true });

    // true — the same PR, ready for review.
    const ready = await cs.computed(await baseSpec(repo), diff);
    expect((await cs.waitFor('ChangesetReconciled', ready)).data['operations']).toEqual([
      'undraft',
    ]);
    expect(await pulls('api')).toEqual([
      expect.objectContaining({ number: first!.number, draft: false }),
    ]);

    // A new title — updated in place.
    const retitled = await cs.computed(await baseSpec(repo, { title: 'Hello, World' }), diff);
    expect((await cs.waitFor('ChangesetReconciled', retitled)).data['operations']).toEqual([
      'update',
    ]);
    expect(await pulls('api')).toEqual([
      expect.objectContaining({ number: first!.number, title: 'Hello, World' }),
    ]);

    // A new diff — a new commit pushed to the same branch.
    const diff2 = await makeDiff(
      { 'README.md': README },
      { 'README.md': `${README}Hello again\n` },
    );
    const spec2 = await baseSpec(repo, { title: 'Hello, World' });
    const rediffed = await cs.computed(spec2, diff2);
    expect((await cs.waitFor('ChangesetReconciled', rediffed)).data['operations']).toEqual([
      'push',
      'sync',
    ]);
    const [afterPush] = await pulls('api');
    expect(afterPush!.number).toBe(first!.number);
    expect(afterPush!.head.sha).not.toBe(first!.head.sha);
    expect((await readCommit(h, 'acme/api', afterPush!.head.sha, 'README.md')).content).toBe(
      `${README}Hello again\n`,
    );

    // The same spec again — reconciled without a single write.
    seq = await lastSeq();
    const again = await cs.computed(spec2, diff2);
    expect((await cs.waitFor('ChangesetReconciled', again)).data['operations']).toEqual([]);
    expect(await writesSince(seq)).toEqual([]);

    // Removed from the spec — closed (and archived, which precedes close in the planner's order).
    const removed = await cs.removed();
    expect((await cs.waitFor('ChangesetReconciled', removed)).data['operations']).toEqual([
      'archive',
      'close',
    ]);
    expect((await cs.waitFor('ChangesetClosed', removed)).data['number']).toBe(first!.number);
    expect(await pulls('api')).toEqual([expect.objectContaining({ state: 'closed' })]);

    // Back in the spec — the same PR reopened.
    const back = await cs.computed(spec2, diff2);
    expect((await cs.waitFor('ChangesetReconciled', back)).data['operations']).toEqual(['reopen']);
    expect(await pulls('api')).toEqual([
      expect.objectContaining({ number: first!.number, state: 'open' }),
    ]);

    // Merged by a person — never touched again, even when the spec changes.
    await h.sim.sim.control.call('mergePullRequest', {
      owner: 'acme',
      name: 'api',
      number: first!.number,
    });
    seq = await lastSeq();
    const afterMerge = await cs.computed(await baseSpec(repo, { title: 'Too late' }), diff);
    expect((await cs.waitFor('ChangesetReconciled', afterMerge)).data['operations']).toEqual([]);
    expect(await writesSince(seq)).toEqual([]);
    const observed = (await cs.events()).filter(
      (e) => e.type === 'ChangesetObserved' && e.data['state'] === 'merged',
    );
    expect(observed).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ source: 'sync', trigger: 'sync' }),
      }),
    ]);
    expect(await pulls('api')).toEqual([
      expect.objectContaining({ title: 'Hello, World', merged_at: expect.any(String) }),
    ]);
  }, 120_000);

  it('leaves a changeset someone closed closed, and reopens it when the spec changes', async () => {
    const repo = h.sim.repo('web');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const [pr] = await pulls('web');
    await h.sim.sim.control.call('closePullRequest', {
      owner: 'acme',
      name: 'web',
      number: pr!.number,
    });
    const before = (await cs.events()).at(-1)!.stream_version;
    // As webhook-gateway records it.
    await h.store.append(
      cs.stream,
      [
        {
          type: 'ChangesetObserved',
          data: {
            changesetId: cs.id,
            campaign: cs.campaign,
            repository: repo,
            headBranch: 'hello-world',
            source: 'webhook',
            deliveryId: 'delivery-1',
            trigger: 'pull_request.closed',
            number: pr!.number,
            state: 'closed',
            sender: 'grace',
          },
        },
      ],
      {
        expected: before,
        metadata: {
          correlation_id: 'delivery-1',
          causation_id: null,
          actor: 'grace',
          source: 'webhook-gateway',
        },
      },
    );
    // Recorded as the actual state, not undone: a person's close stands until the next apply.
    await settle();
    expect(await cs.typesAfter(before)).toEqual(['ChangesetObserved']);
    expect(await pulls('web')).toEqual([
      expect.objectContaining({ number: pr!.number, state: 'closed' }),
    ]);
    const changed = await cs.computed(
      await baseSpec(repo, { title: 'Hello, reopened' }),
      await hello(),
    );
    expect((await cs.waitFor('ChangesetReconciled', changed)).data['operations']).toContain(
      'reopen',
    );
    expect(await pulls('web')).toEqual([
      expect.objectContaining({ number: pr!.number, state: 'open', title: 'Hello, reopened' }),
    ]);
  }, 60_000);

  it('imports a pull request it did not open: reads it, tracks what people do to it, never writes to it; a missing one fails terminally; detached, it is left open', async () => {
    const repo = h.sim.repo('tracked');
    await createRepos(['tracked']);
    await h.sim.sim.control.call('createUser', { login: 'grace' });
    await h.sim.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'tracked',
      branch: 'by-hand',
      files: { 'NOTES.md': 'by hand\n' },
      actor: 'grace',
    });
    const pr = await h.sim.sim.control.call('openPullRequest', {
      owner: 'acme',
      name: 'tracked',
      head: 'by-hand',
      title: 'Opened by hand',
      actor: 'grace',
    });
    const since = await lastSeq();
    const cs = TestChangeset.imported(h, repo, pr.number);
    const importId = await cs.importRequested(pr.number);

    // Read, recorded as observed, and reconciled with the import: nothing written.
    const reconciled = await cs.waitFor('ChangesetReconciled', importId);
    expect(reconciled.data['operations']).toEqual(['import', 'sync']);
    const observed = (await cs.events()).find((e) => e.type === 'ChangesetObserved')!;
    expect(observed.data).toMatchObject({
      trigger: 'import',
      number: pr.number,
      title: 'Opened by hand',
      state: 'open',
      headRefOid: pr.head.sha,
      headBranch: `#${pr.number}`,
    });
    expect(await writesSince(since)).toEqual([]);

    // Merged by a person: the syncer or the next read says so; still nothing written.
    await h.sim.sim.control.call('mergePullRequest', {
      owner: 'acme',
      name: 'tracked',
      number: pr.number,
    });
    const afterMerge = await lastSeq();
    const again = await cs.importRequested(pr.number);
    await cs.waitFor('ChangesetReconciled', again);
    expect(
      (await cs.events()).some(
        (e) => e.type === 'ChangesetObserved' && e.data['state'] === 'merged',
      ),
    ).toBe(true);
    expect(await writesSince(afterMerge)).toEqual([]);

    // A number the repository does not have: a terminal failure naming it.
    const missing = TestChangeset.imported(h, repo, 999);
    const missingId = await missing.importRequested(999);
    const failed = await missing.waitFor('ReconcileFailed', missingId);
    expect(failed.data).toMatchObject({
      operation: 'import',
      retryable: false,
      message: `import ${repo}: pull request #999 not found; remove it from importChangesets or correct the number`,
    });

    // An open one no longer listed: detached, and left open.
    await h.sim.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'tracked',
      branch: 'by-hand-2',
      files: { 'MORE.md': 'more\n' },
      actor: 'grace',
    });
    const open = await h.sim.sim.control.call('openPullRequest', {
      owner: 'acme',
      name: 'tracked',
      head: 'by-hand-2',
      title: 'Also by hand',
      actor: 'grace',
    });
    const tracked = TestChangeset.imported(h, repo, open.number);
    await tracked.waitFor('ChangesetReconciled', await tracked.importRequested(open.number));
    const beforeDetach = await lastSeq();
    const removedId = await tracked.removed('import-left-spec');
    expect((await tracked.waitFor('ChangesetReconciled', removedId)).data['operations']).toEqual([
      'detach',
    ]);
    expect(await writesSince(beforeDetach)).toEqual([]);
    expect(
      await h.sim.sim.control.call('getPullRequest', {
        owner: 'acme',
        name: 'tracked',
        number: open.number,
      }),
    ).toMatchObject({ state: 'open' });
  }, 60_000);

  it("keeps someone else's push until the spec changes, then pushes the spec's commit", async () => {
    const repo = h.sim.repo('web');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const [pr] = await pulls('web');
    const ours = pr!.head.sha;
    const { sha: theirs } = await h.sim.sim.control.call('pushCommit', {
      owner: 'acme',
      name: 'web',
      branch: 'hello-world',
      files: { 'other.txt': 'not from the campaign\n' },
      message: 'a commit by hand',
    });
    const before = (await cs.events()).at(-1)!.stream_version;
    await h.store.append(
      cs.stream,
      [
        {
          type: 'ChangesetObserved',
          data: {
            changesetId: cs.id,
            campaign: cs.campaign,
            repository: repo,
            headBranch: 'hello-world',
            source: 'webhook',
            deliveryId: 'delivery-2',
            trigger: 'pull_request.synchronize',
            number: pr!.number,
            state: 'open',
            headRefOid: theirs,
          },
        },
      ],
      {
        expected: before,
        metadata: {
          correlation_id: 'delivery-2',
          causation_id: null,
          actor: 'grace',
          source: 'webhook-gateway',
        },
      },
    );
    await settle();
    expect(await cs.typesAfter(before)).toEqual(['ChangesetObserved']);
    expect((await pulls('web'))[0]!.head.sha).toBe(theirs);
    const changed = await cs.computed(
      await baseSpec(repo, { title: 'Hello, pushed again' }),
      await hello(),
    );
    await cs.waitFor('ChangesetReconciled', changed);
    const push = (await cs.events()).filter(
      (e) => e.stream_version > before && e.data['operation'] === 'push',
    );
    expect(push).toHaveLength(1);
    const head = (await pulls('web'))[0]!.head.sha;
    expect(head).toBe(push[0]!.data['commitSha']);
    expect(head).not.toBe(theirs);
    expect(head).not.toBe(ours);
  }, 60_000);

  it('records a spec it cannot act on as a terminal failure and writes nothing', async () => {
    const repo = h.sim.repo('web');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const seq = await lastSeq();
    const specId = await cs.computed(await baseSpec(repo, { published: false }), await hello());
    const failed = await cs.waitFor('ReconcileFailed', specId);
    expect(failed.data).toMatchObject({ operation: 'plan', retryable: false, retryInMs: null });
    expect(failed.data['message']).toMatch(/cannot be unpublished/);
    expect(await writesSince(seq)).toEqual([]);
  }, 60_000);

  it('keeps a projection that a replay from the store reproduces', async () => {
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
  }, 60_000);

  it('fails terminally, without retrying, for a repository no configured code host serves', async () => {
    const cs = new TestChangeset(h, 'elsewhere.example.com/acme/api', 'hello-world');
    const specId = await cs.computed(
      await baseSpec(h.sim.repo('api'), { baseRevision: 'a'.repeat(40) }),
      await hello(),
    );
    const failed = await cs.waitFor('ReconcileFailed', specId);
    expect(failed.data).toMatchObject({ operation: 'resolve', retryable: false, retryInMs: null });
    expect(failed.data['message']).toMatch(
      /no configured code host serves elsewhere\.example\.com/,
    );
    expect(
      await eventually(async () => {
        const { rows } = await h.db.pool.query(
          `SELECT 1 FROM ${RECONCILER_SCHEMA}.reconcile_queue WHERE changeset_id = $1`,
          [cs.id],
        );
        return rows.length === 0;
      }),
    ).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await cs.typesAfter(1n)).toEqual(['ReconcileFailed']);
  }, 60_000);

  it('records a 5xx as a retryable ReconcileFailed and succeeds on the retry', async () => {
    const repo = h.sim.repo('cli');
    const cs = new TestChangeset(h, repo, 'hello-world');
    await h.sim.sim.control.call('configureFaults', {
      errorRate: 1,
      errorStatuses: [502],
      paths: ['^/api/v3/repos/acme/cli/pulls'],
    });
    const specId = await cs.computed(await baseSpec(repo), await hello());
    const failed = await cs.waitFor('ReconcileFailed', specId);
    expect(failed.data).toMatchObject({
      operation: 'publish',
      retryable: true,
      attempt: 1,
      retryInMs: 1000,
    });
    await h.sim.sim.control.call('configureFaults', { errorRate: 0 });

    const reconciled = await cs.waitFor('ChangesetReconciled', specId);
    expect(reconciled.data['operations']).toEqual(['publish']);
    expect(reconciled.recorded_at.getTime()).toBeGreaterThanOrEqual(
      failed.recorded_at.getTime() + 1000,
    );
    expect(await pulls('cli')).toEqual([expect.objectContaining({ state: 'open' })]);
    expect(await cs.typesAfter(1n)).toEqual([
      'ChangesetUpdated:push',
      'ReconcileFailed',
      'ChangesetPublished',
      'ChangesetReconciled',
    ]);
  }, 60_000);

  it('lets competing workers share the queue without acting twice on a changeset', async () => {
    const names = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    await createRepos(names);
    await h.startWorker({ concurrency: 2, workerId: 'competitor-1' });
    await h.startWorker({ concurrency: 2, workerId: 'competitor-2' });
    const changesets = names.map((name) => new TestChangeset(h, h.sim.repo(name), 'hello-world'));
    const specIds = await Promise.all(
      changesets.map(async (cs) => cs.computed(await baseSpec(cs.repository), await hello())),
    );
    for (const [i, cs] of changesets.entries()) {
      await cs.waitFor('ChangesetReconciled', specIds[i]!);
      expect(await cs.typesAfter(1n)).toEqual([
        'ChangesetUpdated:push',
        'ChangesetPublished',
        'ChangesetReconciled',
      ]);
      expect(await pulls(names[i]!)).toHaveLength(1);
    }
  }, 60_000);

  it('lets the other lanes go on while one changeset is slow', async () => {
    for (const w of h.workers) await w.stop();
    const names = ['lane-slow', 'lane-1', 'lane-2', 'lane-3'];
    await createRepos(names);
    const [slow, ...others] = names.map(
      (name) => new TestChangeset(h, h.sim.repo(name), 'hello-world'),
    );
    // The slow changeset's round stops after opening its PR until the test lets it go on.
    let letGo: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    const worker = await h.startWorker({
      concurrency: 2,
      workerId: 'two-lanes',
      afterHostWrite: async (id, operation) => {
        if (id === slow!.id && operation === 'publish') await gate;
      },
    });
    try {
      const slowSpec = await slow!.computed(await baseSpec(slow!.repository), await hello());
      await eventually(async () => (await pulls('lane-slow')).length === 1);

      // Three more changesets pass through the one free lane while the slow one waits.
      const specIds = await Promise.all(
        others.map(async (cs) => cs.computed(await baseSpec(cs.repository), await hello())),
      );
      for (const [i, cs] of others.entries()) await cs.waitFor('ChangesetReconciled', specIds[i]!);
      expect(await slow!.typesAfter(1n)).toEqual(['ChangesetUpdated:push']);

      letGo();
      expect((await slow!.waitFor('ChangesetReconciled', slowSpec)).data['operations']).toEqual([
        'push',
        'publish',
      ]);
    } finally {
      letGo();
      await worker.stop();
    }
  }, 60_000);

  it('claims again at once when lanes were given back while it was claiming', async () => {
    for (const w of h.workers) await w.stop();
    const names = ['refill-1', 'refill-2', 'refill-3', 'refill-4'];
    await createRepos(names);
    const changesets = names.map((name) => new TestChangeset(h, h.sim.repo(name), 'hello-world'));
    const specIds = await Promise.all(
      changesets.map(async (cs) => cs.computed(await baseSpec(cs.repository), await hello())),
    );
    // All four are due before the worker starts; its poll interval is far beyond the test's
    // time, so only claiming again at once can take the fourth.
    await eventually(async () => {
      const { rows } = await h.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${RECONCILER_SCHEMA}.reconcile_queue w
           JOIN ${RECONCILER_SCHEMA}.projection_checkpoints c
             ON c.projection = $1 AND c.stream_id = 'changeset-' || w.changeset_id
          WHERE w.changeset_id = ANY ($2::text[]) AND c.stream_version >= w.due_version`,
        [CHANGESET_PROJECTION, changesets.map((cs) => cs.id)],
      );
      return rows[0]!.n === 4;
    });
    // The first two rounds wait after their push until the test lets them go.
    const gates = new Map<string, () => void>();
    const arrived: string[] = [];
    let secondPublished: () => void = () => undefined;
    const published = new Promise<void>((resolve) => (secondPublished = resolve));
    const worker = new ReconcilerWorker({
      database: h.database,
      store: h.store,
      codeHosts: h.codeHosts,
      config: h.config,
      concurrency: 2,
      pollMs: 600_000,
      workerId: 'refill',
      afterHostWrite: async (id, operation) => {
        if (operation === 'push' && arrived.length < 2) {
          arrived.push(id);
          await new Promise<void>((resolve) => gates.set(id, resolve));
        }
        if (operation === 'publish' && id === arrived[1]) secondPublished();
      },
    });
    // While the claim that follows the first lane's release runs, the second lane is given
    // back too.
    const claims = (worker as unknown as { queue: { claim(limit: number): Promise<unknown[]> } })
      .queue;
    const claim = claims.claim.bind(claims);
    let calls = 0;
    claims.claim = async (limit) => {
      const claimed = await claim(limit);
      if (++calls === 2) {
        gates.get(arrived[1]!)!();
        await published;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return claimed;
    };
    h.workers.push(worker);
    await worker.start();
    try {
      await eventually(async () => arrived.length === 2 && gates.size === 2);
      gates.get(arrived[0]!)!();
      for (const [i, cs] of changesets.entries())
        await cs.waitFor('ChangesetReconciled', specIds[i]!);
      expect(calls).toBeGreaterThanOrEqual(3);
    } finally {
      for (const open of gates.values()) open();
      await worker.stop();
    }
  }, 60_000);

  it("keeps a working worker's claim past its lease time, so no other worker acts meanwhile", async () => {
    for (const w of h.workers) await w.stop();
    await createRepos(['slow']);
    const repo = h.sim.repo('slow');
    const cs = new TestChangeset(h, repo, 'hello-world');
    // Whichever worker claims the changeset is slow: it takes 1.5 s after opening the PR.
    const writes: string[] = [];
    const slowAfterPublish = (name: string) => async (_id: string, operation: string) => {
      writes.push(`${name}:${operation}`);
      if (operation === 'publish') await new Promise((resolve) => setTimeout(resolve, 1500));
    };
    for (const name of ['first', 'second']) {
      await h.startWorker({ leaseMs: 300, workerId: name, afterHostWrite: slowAfterPublish(name) });
    }
    const specId = await cs.computed(await baseSpec(repo), await hello());
    const reconciled = await cs.waitFor('ChangesetReconciled', specId);
    expect(reconciled.data['operations']).toEqual(['push', 'publish']);
    const [worker] = writes[0]!.split(':');
    expect(writes).toEqual([`${worker}:push`, `${worker}:publish`]);
    for (const w of h.workers) await w.stop();
  }, 60_000);

  it('opens one PR only when a worker is killed -9 between opening it and recording it', async () => {
    for (const w of h.workers) await w.stop();
    const repo = h.sim.repo('docs');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const doomed = spawnWorkerProcess(h, 1000);
    try {
      await doomed.waitFor('started');
      const specId = await cs.computed(await baseSpec(repo), await hello());
      await doomed.waitFor('opened');
      await doomed.kill();
      expect(await pulls('docs')).toHaveLength(1);
      expect(await cs.typesAfter(1n)).toEqual(['ChangesetUpdated:push']);

      // Another worker takes the changeset over once the dead one's lease expired.
      await h.startWorker({ workerId: 'survivor' });
      const reconciled = await cs.waitFor('ChangesetReconciled', specId);
      expect(reconciled.data['operations']).toEqual(['publish']);
    } finally {
      await doomed.kill();
    }
    const [pr, ...others] = await pulls('docs');
    expect(others).toEqual([]);
    const published = (await cs.events()).filter((e) => e.type === 'ChangesetPublished');
    expect(published).toHaveLength(1);
    expect(published[0]!.data['number']).toBe(pr!.number);
  }, 60_000);

  it('waits as long as the code host says when its rate limit is exhausted', async () => {
    await createRepos(['limited']);
    const repo = h.sim.repo('limited');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const spec = await baseSpec(repo);
    const diff = await hello();
    await h.sim.sim.control.call('setTokenLimits', {
      token: h.sim.token,
      limits: { core: 1, windowSeconds: 3600 },
    });
    await h.sim.sim.control.call('resetRateLimits', { token: h.sim.token });
    // Other work with the token spends the budget's one request before the PR is opened.
    const spent = await fetch(`${h.sim.sim.apiUrl}/repos/acme/limited`, {
      headers: { authorization: `token ${h.sim.token}` },
    });
    expect(spent.status).toBe(200);
    try {
      const specId = await cs.computed(spec, diff);
      const failed = await cs.waitFor('ReconcileFailed', specId);
      expect(failed.data).toMatchObject({ operation: 'publish', retryable: true, attempt: 1 });
      // The reset is most of an hour away: far beyond the 1 s backoff of a first attempt.
      expect(failed.data['retryInMs']).toBeGreaterThan(60_000);
      expect(
        await eventually(async () => {
          const r = await h.db.pool.query<{ due_at: Date }>(
            `SELECT due_at FROM ${RECONCILER_SCHEMA}.reconcile_queue WHERE changeset_id = $1`,
            [cs.id],
          );
          return (
            r.rows[0]?.due_at.getTime() ===
            failed.recorded_at.getTime() + (failed.data['retryInMs'] as number)
          );
        }),
      ).toBe(true);
    } finally {
      await h.sim.sim.control.call('setTokenLimits', {
        token: h.sim.token,
        limits: { core: 5000, windowSeconds: 3600 },
      });
      await h.sim.sim.control.call('resetRateLimits', { token: h.sim.token });
    }
  }, 60_000);
});

describe('retryDelayMs', () => {
  it('doubles from 1 s, caps at 5 minutes and honours a retry-after', () => {
    expect([1, 2, 3, 10, 20].map((a) => retryDelayMs(a))).toEqual([
      1000, 2000, 4000, 300_000, 300_000,
    ]);
    expect(retryDelayMs(3, 42_000)).toBe(42_000);
  });
});
