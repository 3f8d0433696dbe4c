import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bulkStream, ProjectionConsumer, type StoredEvent } from '@campaigns/events';
import { RECONCILER_SCHEMA } from '../reconciler-settings.js';
import {
  eventually,
  makeDiff,
  startHarness,
  TestChangeset,
  type Harness,
} from '../test-support/reconciler-harness.js';
import { bulkJobsProjection } from './bulk-jobs.projection.js';
import { BulkProcessor, type BulkProcessorOptions } from './bulk-processor.js';
import type { ContentPacer } from './content-pacer.js';

describe('bulk processor against PostgreSQL, NATS and the GitHub simulator', () => {
  let h: Harness;
  let jobs: ProjectionConsumer;
  const processors: BulkProcessor[] = [];
  const README = '# api\n';
  const repos = ['api', 'web'];
  const changesets: TestChangeset[] = [];
  const numbers: number[] = [];

  beforeAll(async () => {
    h = await startHarness();
    jobs = new ProjectionConsumer({
      store: h.store,
      database: h.database,
      nats: h.nats,
      projection: bulkJobsProjection(),
      schema: RECONCILER_SCHEMA,
      topology: h.topology,
    });
    await jobs.start();
    await h.startWorker();
    // Two open pull requests the campaign published.
    for (const name of repos) {
      await h.sim.sim.control.call('createRepo', {
        owner: 'acme',
        name,
        files: { 'README.md': README },
      });
      const repo = h.sim.repo(name);
      const cs = new TestChangeset(h, repo, 'hello-world');
      const specId = await cs.computed(
        {
          baseRef: 'main',
          baseRevision: (await h.sim.host.getRepository(repo)).headCommit!,
          title: 'Hello',
          body: 'Body',
          commit: { message: 'Hello', author: { name: 'Ada', email: 'ada@example.com' } },
          published: true,
        },
        await makeDiff({ 'README.md': README }, { 'README.md': `${README}Hello\n` }),
      );
      await cs.waitFor('ChangesetReconciled', specId);
      changesets.push(cs);
    }
    for (const cs of changesets) {
      await eventually(async () => {
        const row = await h.database.query(
          `SELECT number FROM changesets WHERE changeset_id = $1 AND number IS NOT NULL`,
          [cs.id],
        );
        if (row.length === 1) numbers.push(row[0].number as number);
        return row.length === 1;
      });
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of processors) await p.stop();
    await jobs?.stop();
    await h?.close();
  }, 60_000);

  const start = async (options: Partial<BulkProcessorOptions> = {}) => {
    const processor = new BulkProcessor({
      database: h.database,
      store: h.store,
      codeHosts: h.codeHosts,
      pollMs: 25,
      ...options,
    });
    processors.push(processor);
    await processor.start();
    return processor;
  };

  /** Records a bulk operation on `targets` (default: both changesets), as spec-service does. */
  const request = async (
    operation: 'comment' | 'publish',
    message?: string,
    targets: readonly TestChangeset[] = changesets,
  ): Promise<string> => {
    const operationId = randomUUID();
    await h.store.append(
      bulkStream(operationId),
      [
        {
          type: 'BulkOperationRequested',
          data: {
            operationId,
            campaign: 'hello-world',
            operation,
            ...(message === undefined ? {} : { message }),
            filter: {},
            actor: 'ada',
            changesetCount: targets.length,
          },
        },
        {
          type: 'BulkChangesetsTargeted',
          data: {
            operationId,
            changesets: targets.map((c) => ({
              changesetId: c.id,
              repository: c.repository,
              headBranch: c.headBranch,
            })),
          },
        },
      ],
      {
        expected: 'no_stream',
        metadata: {
          correlation_id: operationId,
          causation_id: null,
          actor: 'ada',
          source: 'spec-service',
        },
      },
    );
    return operationId;
  };
  const requestComment = (body: string) => request('comment', body);
  const results = async (operationId: string, count: number) =>
    eventually(async () => {
      const events = (await h.store.readStream(bulkStream(operationId))).filter(
        (e) => e.type === 'BulkChangesetProcessed',
      );
      return events.length === count;
    }).then(async () =>
      (await h.store.readStream(bulkStream(operationId)))
        .filter((e): e is StoredEvent => e.type === 'BulkChangesetProcessed')
        .map((e) => e.data as { repository: string; result: string; message: string }),
    );
  const commentsOn = async (name: string, number: number) => {
    const response = await fetch(
      `${h.sim.sim.apiUrl}/repos/acme/${name}/issues/${number}/comments`,
      { headers: { authorization: `token ${h.sim.token}` } },
    );
    return ((await response.json()) as { body: string }[]).map((c) => c.body);
  };

  it('waits for the pacer: a comment not admitted is posted when admitted, once', async () => {
    const asked: string[] = [];
    let refused = false;
    // Refuses the first write it is asked for, for a moment; admits everything after.
    const pacer: ContentPacer = {
      admit: ({ changesetId }) => {
        asked.push(changesetId);
        if (refused) return Promise.resolve({ admitted: true });
        refused = true;
        return Promise.resolve({ admitted: false, at: new Date(Date.now() + 300) });
      },
    };
    const processor = await start({ pacer });
    const operationId = await requestComment('Paced');
    const done = await results(operationId, 2);
    await processor.stop();
    expect(done.map((r) => r.result)).toEqual(['done', 'done']);
    // Three admissions asked: one refused, then one per changeset.
    expect(asked).toHaveLength(3);
    expect(await commentsOn('api', numbers[0]!)).toEqual(['Paced']);
    expect(await commentsOn('web', numbers[1]!)).toEqual(['Paced']);
  }, 60_000);

  it('never posts a comment twice: a job interrupted after posting is reported, not posted again', async () => {
    let crashes = 0;
    // Dies once between the host write and the record, as a crashed processor would.
    const processor = await start({
      concurrency: 1,
      afterHostWrite: () => {
        if (crashes++ === 0) return Promise.reject(new Error('killed after the comment'));
        return Promise.resolve();
      },
    });
    const operationId = await requestComment('Once');
    const done = await results(operationId, 2);
    await processor.stop();
    const byResult = done.map((r) => r.result).sort();
    expect(byResult).toEqual(['done', 'failed']);
    expect(done.find((r) => r.result === 'failed')!.message).toBe(
      'interrupted while commenting: it may have been posted, so it is not posted again; look at the pull request',
    );
    expect(await commentsOn('api', numbers[0]!)).toEqual(['Paced', 'Once']);
    expect(await commentsOn('web', numbers[1]!)).toEqual(['Paced', 'Once']);
  }, 60_000);

  it('publishes a changeset its spec keeps local, and keeps it published when the same spec comes again', async () => {
    await h.sim.sim.control.call('createRepo', {
      owner: 'acme',
      name: 'cli',
      files: { 'README.md': README },
    });
    const repo = h.sim.repo('cli');
    const cs = new TestChangeset(h, repo, 'hello-world');
    const local = async () =>
      cs.computed(
        {
          baseRef: 'main',
          baseRevision: (await h.sim.host.getRepository(repo)).headCommit!,
          title: 'Hello',
          body: 'Body',
          commit: { message: 'Hello', author: { name: 'Ada', email: 'ada@example.com' } },
          published: false,
        },
        await makeDiff({ 'README.md': README }, { 'README.md': `${README}Hello\n` }),
      );
    const specId = await local();
    expect((await cs.waitFor('ChangesetReconciled', specId)).data['operations']).toEqual([]);

    const processor = await start();
    const operationId = await request('publish', undefined, [cs]);
    expect(await results(operationId, 1)).toEqual([
      expect.objectContaining({ result: 'done', message: 'the reconciler publishes it next' }),
    ]);
    await processor.stop();
    const published = await eventually(async () =>
      (await cs.events()).some((e) => e.type === 'ChangesetPublished'),
    );
    expect(published).toBe(true);
    const pulls = (await (
      await fetch(`${h.sim.sim.apiUrl}/repos/acme/cli/pulls?state=all`, {
        headers: { authorization: `token ${h.sim.token}` },
      })
    ).json()) as { state: string; title: string }[];
    expect(pulls).toEqual([expect.objectContaining({ state: 'open', title: 'Hello' })]);

    // The spec still says published: false: no refusal to unpublish, nothing done.
    const again = await local();
    expect((await cs.waitFor('ChangesetReconciled', again)).data['operations']).toEqual([]);
  }, 60_000);
});
