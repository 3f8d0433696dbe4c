import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CodeHostError, type ChangesetRef } from '@campaigns/codehost';
import { startSimCodeHost, type SimCodeHost } from '@campaigns/codehost/testing';
import { ChangesetReadBatcher } from './changeset-read-batcher.js';

describe('ChangesetReadBatcher against the GitHub simulator', () => {
  let sim: SimCodeHost;
  const refs: ChangesetRef[] = [];

  beforeAll(async () => {
    sim = await startSimCodeHost({ repos: 1 });
    for (let i = 0; i < 5; i++) {
      await sim.sim.control.call('pushCommit', {
        owner: 'acme',
        name: 'repo-00001',
        branch: `feature-${i}`,
        files: { [`f${i}.txt`]: `${i}\n` },
      });
      const pull = await sim.sim.control.call('openPullRequest', {
        owner: 'acme',
        name: 'repo-00001',
        head: `feature-${i}`,
        title: `PR ${i}`,
      });
      refs.push({ repo: sim.repo('repo-00001'), number: pull.number });
    }
  }, 60_000);

  afterAll(async () => {
    await sim?.sim.stop();
  });

  const lastSeq = async () => (await sim.sim.control.requests({})).at(-1)?.seq ?? 0;
  const graphqlSince = async (seq: number) =>
    (await sim.sim.control.requests({ since: seq })).filter((r) => r.kind === 'graphql');

  it('answers reads made at once with one query, each with its own pull request', async () => {
    const batcher = new ChangesetReadBatcher({ maxBatch: 3, maxWaitMs: 60_000 });
    const seq = await lastSeq();

    const read = await Promise.all(refs.slice(0, 3).map((ref) => batcher.load(sim.host, ref)));

    expect(read.map((o) => o?.title)).toEqual(['PR 0', 'PR 1', 'PR 2']);
    expect(await graphqlSince(seq)).toHaveLength(1);
  });

  it('sends a full batch at once and the rest when the first of them has waited long enough', async () => {
    const batcher = new ChangesetReadBatcher({ maxBatch: 3, maxWaitMs: 100 });
    const seq = await lastSeq();

    const read = await Promise.all(
      [...refs, { repo: sim.repo('repo-00001'), number: 999 }].map((ref) =>
        batcher.load(sim.host, ref),
      ),
    );

    expect(read.map((o) => o?.title)).toEqual(['PR 0', 'PR 1', 'PR 2', 'PR 3', 'PR 4', undefined]);
    expect(await graphqlSince(seq)).toHaveLength(2);
  });

  it('sends as soon as no other read can join, without waiting out its window', async () => {
    let toCome = 2;
    const batcher = new ChangesetReadBatcher({
      maxBatch: 100,
      maxWaitMs: 60_000,
      readsToCome: () => toCome,
    });
    const seq = await lastSeq();

    // Two rounds read; a third that might have read did not (its changeset had no PR yet).
    const first = batcher.load(sim.host, refs[0]!);
    toCome--;
    const second = batcher.load(sim.host, refs[1]!);
    toCome--;
    batcher.settle();

    expect((await Promise.all([first, second])).map((o) => o?.title)).toEqual(['PR 0', 'PR 1']);
    expect(await graphqlSince(seq)).toHaveLength(1);
  });

  it("fails every read of a batch with the host's error", async () => {
    const batcher = new ChangesetReadBatcher({ maxBatch: 2, maxWaitMs: 60_000 });
    await sim.sim.control.call('configureFaults', {
      errorRate: 1,
      errorStatuses: [502],
      paths: ['^/api/graphql'],
    });
    try {
      const results = await Promise.allSettled(
        refs.slice(0, 2).map((ref) => batcher.load(sim.host, ref)),
      );
      for (const result of results) {
        expect(result.status).toBe('rejected');
        expect((result as PromiseRejectedResult).reason).toBeInstanceOf(CodeHostError);
      }
    } finally {
      await sim.sim.control.call('configureFaults', { errorRate: 0 });
    }
  });
});
