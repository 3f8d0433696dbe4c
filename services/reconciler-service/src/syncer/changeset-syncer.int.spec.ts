import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChangesetSyncer } from './changeset-syncer.js';
import { RECONCILER_SCHEMA } from '../reconciler-service.definition.js';
import {
  makeDiff,
  startHarness,
  TestChangeset,
  type Harness,
} from '../test-support/reconciler-harness.js';

describe('ChangesetSyncer against the simulator', () => {
  let h: Harness;
  let cs: TestChangeset;
  let number: number;
  const syncer = () =>
    new ChangesetSyncer({
      database: h.database,
      store: h.store,
      codeHosts: h.codeHosts,
    });
  /** Waits until the projection shows the changeset in `state`. */
  const projectedState = async (state: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { rows } = await h.db.pool.query<{ external_state: string }>(
        `SELECT external_state FROM ${RECONCILER_SCHEMA}.changesets WHERE changeset_id = $1`,
        [cs.id],
      );
      if (rows[0]?.external_state === state) return;
      if (Date.now() > deadline) throw new Error(`changeset never projected as ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    h = await startHarness();
    await h.startWorker();
    const readme = '# sync\n';
    await h.sim.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'sync',
      files: { 'README.md': readme },
    });
    const repo = h.sim.repo('sync');
    cs = new TestChangeset(h, repo, 'sync-me');
    const diff = await makeDiff({ 'README.md': readme }, { 'README.md': `${readme}Hello\n` });
    const specId = await cs.computed(
      {
        baseRef: 'main',
        baseRevision: (await h.sim.host.getRepository(repo)).headCommit!,
        title: 'Sync me',
        body: 'Found by the syncer',
        commit: { message: 'Hello', author: { name: 'Ada', email: 'ada@example.com' } },
        published: true,
      },
      diff,
    );
    await cs.waitFor('ChangesetReconciled', specId);
    number = (await cs.events()).find((e) => e.type === 'ChangesetPublished')!.data[
      'number'
    ] as number;
    await projectedState('open');
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('records nothing when the code host agrees with the projection', async () => {
    const before = (await cs.events()).length;
    expect(await syncer().syncOnce()).toMatchObject({ ran: true, checked: 1, observed: 0 });
    expect(await cs.events()).toHaveLength(before);
  }, 60_000);

  it('corrects checks and a review decision that the observations got wrong, though nothing else differs', async () => {
    const pull = await h.sim.sim.control.call('getPullRequest', {
      owner: 'acme',
      name: 'sync',
      number,
    });
    await h.sim.sim.control.call('createCheckRun', {
      owner: 'acme',
      name: 'sync',
      headSha: pull.head.sha,
      checkName: 'build',
      conclusion: 'failure',
    });
    await h.sim.sim.control.call('createUser', { login: 'critic' });
    await h.sim.sim.control.call('addMember', { org: 'acme', login: 'critic' });
    await h.sim.sim.control.call('submitReview', {
      owner: 'acme',
      name: 'sync',
      number,
      actor: 'critic',
      event: 'REQUEST_CHANGES',
      body: 'no',
    });
    // A webhook (say, a misordered one) left the checks passing and the pull request approved.
    await h.store.append(
      cs.stream,
      [
        {
          type: 'ChangesetObserved',
          data: {
            changesetId: cs.id,
            campaign: cs.campaign,
            repository: cs.repository,
            headBranch: cs.headBranch,
            source: 'webhook',
            deliveryId: 'misordered',
            trigger: 'status',
            number,
            checks: 'SUCCESS',
            reviewDecision: 'APPROVED',
          },
        },
      ],
      {
        expected: 'any',
        metadata: {
          correlation_id: 'misordered',
          causation_id: null,
          actor: 'test',
          source: 'test',
        },
      },
    );
    expect(await syncer().syncOnce()).toMatchObject({ ran: true, checked: 1, observed: 1 });
    expect((await cs.events()).at(-1)!.data).toMatchObject({
      source: 'sync',
      checks: 'FAILURE',
      reviewDecision: 'CHANGES_REQUESTED',
    });
    expect(await syncer().syncOnce()).toMatchObject({ observed: 0 });
  }, 60_000);

  it('records a close that no webhook reported, and leaves the pull request closed', async () => {
    await h.sim.sim.control.call('closePullRequest', { owner: 'acme', name: 'sync', number });
    const pass = await syncer().syncOnce();
    expect(pass).toMatchObject({ ran: true, checked: 1, observed: 1 });
    const observed = (await cs.events()).at(-1)!;
    expect(observed.type).toBe('ChangesetObserved');
    expect(observed.data).toMatchObject({
      source: 'sync',
      trigger: 'sync',
      state: 'closed',
      number,
    });
    await projectedState('closed');
    // Seen once: the next pass finds the projection in agreement.
    expect(await syncer().syncOnce()).toMatchObject({ observed: 0 });
  }, 60_000);

  it('lets one replica sync at a time', async () => {
    const holder = await h.db.pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [0x63_61_6d_73]);
      expect(await syncer().syncOnce()).toEqual({
        ran: false,
        checked: 0,
        observed: 0,
        failedHosts: 0,
      });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [0x63_61_6d_73]);
      holder.release();
    }
  }, 30_000);
});
