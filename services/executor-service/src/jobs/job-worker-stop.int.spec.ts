import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { executionStream, jobsTopology } from '@campaigns/events';
import { eventually } from '@campaigns/events/testing';
import { ExecutionRunner, type ExecutionOutcome } from '../execution/execution-runner.js';
import { APPLICATION_LABEL } from '../steps/index.js';
import {
  specWithSteps,
  startExecutorHarness,
  type ExecutorHarness,
} from '../test-support/executor-harness.js';
import { JobDispatcher } from './job-dispatcher.js';
import { JobWorker } from './job-worker.js';

describe('job worker: graceful stop, duplicates', () => {
  let h: ExecutorHarness;
  let dispatcher: JobDispatcher;
  const workers: JobWorker[] = [];
  /** What every worker of this file finished, by worker name. */
  const everyOutcome: { worker: string; outcome: ExecutionOutcome }[] = [];

  const runner = (name: string) =>
    new ExecutionRunner({
      store: h.store,
      database: h.database,
      campaignsConfig: h.campaignsConfig,
      stepSecrets: {},
      cacheDir: join(h.dir, 'mirrors'),
      workDir: join(h.dir, 'work'),
      worker: name,
    });
  const startWorker = async (name: string, stopDeadlineMs: number) => {
    const outcomes: ExecutionOutcome[] = [];
    const worker = new JobWorker({
      nats: h.nats,
      topology: h.topology,
      runner: runner(name),
      concurrency: 1,
      ackWaitMs: 10_000,
      maxAttempts: 5,
      stopDeadlineMs,
      onOutcome: (_job, outcome) => {
        outcomes.push(outcome);
        everyOutcome.push({ worker: name, outcome });
      },
    });
    await worker.start();
    workers.push(worker);
    return { worker, outcomes };
  };
  const started = (executionId: string) =>
    eventually(async () =>
      (await h.store.readStream(executionStream(executionId))).some(
        (e) => e.type === 'ExecutionStarted',
      ),
    );
  const queuedJobs = async () =>
    (await (await jetstreamManager(h.nats)).streams.info(jobsTopology(h.topology).streamName)).state
      .messages;

  beforeAll(async () => {
    h = await startExecutorHarness();
    dispatcher = new JobDispatcher({
      store: h.store,
      database: h.database,
      nats: h.nats,
      topology: h.topology,
    });
    await dispatcher.start();
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await dispatcher?.stop();
    await h?.close();
  }, 60_000);

  it('stop() lets the running job finish and acknowledges it before returning', async () => {
    const { worker, outcomes } = await startWorker('patient', 30_000);
    const repo = await h.createRepo('patient', { 'README.md': '# patient\n' });
    const { jobs } = await h.queue({
      campaign: 'patient',
      specText: specWithSteps('patient', [{ run: 'sleep 2; echo Hello >> README.md' }]),
      repositories: [repo],
    });
    expect(await started(jobs[0]!.executionId)).toBe(true);

    await worker.stop();

    expect(worker.ready()).toBe(false);
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'patch', cached: false })]);
    const events = await h.store.readStream(executionStream(jobs[0]!.executionId));
    expect(events.at(-1)!.type).toBe('PatchComputed');
    expect(await queuedJobs()).toBe(0);
  }, 60_000);

  it('stop() past its deadline hands the running job back, and another worker finishes it', async () => {
    const { worker, outcomes: hastyOutcomes } = await startWorker('hasty', 500);
    const repo = await h.createRepo('hasty', { 'README.md': '# hasty\n' });
    const { jobs } = await h.queue({
      campaign: 'hasty',
      specText: specWithSteps('hasty', [{ run: 'sleep 4; echo Hello >> README.md' }]),
      repositories: [repo],
    });
    expect(await started(jobs[0]!.executionId)).toBe(true);

    const stopping = Date.now();
    await worker.stop();
    expect(Date.now() - stopping).toBeLessThan(2_000);
    const { outcomes } = await startWorker('successor', 30_000);

    const events = await h.result(jobs[0]!.executionId);
    await eventually(async () => outcomes.length > 0);
    const results = events.filter(
      (e) => e.type === 'PatchComputed' || e.type === 'ExecutionFailed',
    );
    expect(results).toHaveLength(1);
    expect(results[0]!.type).toBe('PatchComputed');
    // The nak'ed message was delivered again at once (well before the 10 s ack_wait) to the successor.
    expect(
      events
        .filter((e) => e.type === 'ExecutionStarted')
        .map((e) => (e.data as { worker: string }).worker),
    ).toContain('successor');
    // The stopped worker's own run ended after the successor removed its container: not recorded.
    await eventually(async () => hastyOutcomes.length > 0, 10_000);
    expect(hastyOutcomes).toEqual([{ kind: 'abandoned' }]);
    expect(await eventually(async () => (await queuedJobs()) === 0, 10_000)).toBe(true);
  }, 60_000);

  it('drops a job re-published within the duplicate window, and skips a finished one delivered again', async () => {
    await startWorker('dedupe', 30_000);
    const earlier = everyOutcome.length;
    const repo = await h.createRepo('dedupe', { 'README.md': '# dedupe\n' });
    const { jobs } = await h.queue({
      campaign: 'dedupe',
      specText: specWithSteps('dedupe', [{ run: 'echo Hello >> README.md' }]),
      repositories: [repo],
    });
    const job = jobs[0]!;
    const before = await h.result(job.executionId);
    // The worker reports the first delivery's outcome after its result is stored.
    expect(await eventually(async () => everyOutcome.length > earlier)).toBe(true);
    const subject = jobsTopology(h.topology).subject;
    const js = jetstream(h.nats);

    // As a dispatcher that crashed after its PubAck would: same msgID → dropped by JetStream.
    const again = await js.publish(subject, JSON.stringify(job), { msgID: job.executionId });
    expect(again.duplicate).toBe(true);
    // Beyond the window (another msgID stands in for it): delivered, and the worker skips it.
    const seen = everyOutcome.length;
    await js.publish(subject, JSON.stringify(job), { msgID: `${job.executionId}-late` });
    expect(await eventually(async () => everyOutcome.length > seen)).toBe(true);

    expect(everyOutcome.slice(seen)).toEqual([
      { worker: expect.any(String), outcome: { kind: 'skipped' } },
    ]);
    expect(await h.store.readStream(executionStream(job.executionId))).toHaveLength(before.length);
    expect(await eventually(async () => (await queuedJobs()) === 0, 10_000)).toBe(true);
  }, 60_000);

  it("records nothing when a later delivery started meanwhile and removed this attempt's container", async () => {
    for (const worker of workers) await worker.stop();
    const repo = await h.createRepo('superseded', { 'README.md': '# superseded\n' });
    const { applyId, jobs } = await h.queue({
      campaign: 'superseded',
      specText: specWithSteps('superseded', [{ run: 'sleep 3; echo Hello >> README.md' }]),
      repositories: [repo],
    });
    const job = jobs[0]!;
    const label = `${APPLICATION_LABEL}=${applyId}`;

    // This worker missed its heartbeats; attempt 2 went to another worker, which started and
    // removed attempt 1's container.
    const slowRunner = runner('slow');
    const slow = slowRunner.execute(job, { attempt: 1 });
    expect(
      await eventually(
        async () => (await h.docker.listContainers({ filters: { label: [label] } })).length === 1,
      ),
    ).toBe(true);
    await h.store.append(
      executionStream(job.executionId),
      [
        {
          type: 'ExecutionStarted',
          data: {
            executionId: job.executionId,
            campaign: job.campaign,
            applyId: job.applyId,
            repository: repo.repository,
            attempt: 2,
            worker: 'other',
          },
        },
      ],
      {
        expected: 'any',
        metadata: {
          correlation_id: job.applyId,
          causation_id: null,
          actor: 'alice',
          source: 'test',
        },
      },
    );
    for (const c of await h.docker.listContainers({ filters: { label: [label] } }))
      await h.docker.getContainer(c.Id).remove({ force: true });

    expect(await slow).toEqual({ kind: 'superseded' });
    await slowRunner.close();
    const types = (await h.store.readStream(executionStream(job.executionId))).map((e) => e.type);
    expect(types).toEqual(['ExecutionQueued', 'ExecutionStarted', 'ExecutionStarted']);
  }, 60_000);
});
