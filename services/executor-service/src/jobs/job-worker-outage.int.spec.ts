// A dependency outage is not the job's failure: while PostgreSQL (or NATS) is away the job is
// retried, however many deliveries that takes, and it is never recorded as failed for it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import pg from 'pg';
import type { ExecutionJob } from '@campaigns/events';
import { freePort } from '@campaigns/events/testing';
import { ExecutionRunner, type ExecutionOutcome } from '../execution/execution-runner.js';
import type { Delivery } from '../execution/execution-outcome.js';
import {
  specWithSteps,
  startExecutorHarness,
  type ExecutorHarness,
} from '../test-support/executor-harness.js';
import { JobDispatcher } from './job-dispatcher.js';
import { JobWorker } from './job-worker.js';

/**
 * The real runner, whose first `outageDeliveries` deliveries meet a PostgreSQL that is not there
 * (a real refused connection, as when the server is restarting) before doing anything.
 */
class RunnerBehindAnOutage extends ExecutionRunner {
  readonly attempts: number[] = [];
  constructor(
    options: ConstructorParameters<typeof ExecutionRunner>[0],
    private readonly outageDeliveries: number,
    private readonly absentDatabase: string,
  ) {
    super(options);
  }
  override async execute(job: ExecutionJob, delivery: Delivery): Promise<ExecutionOutcome> {
    this.attempts.push(delivery.attempt);
    if (delivery.attempt <= this.outageDeliveries) {
      const client = new pg.Client({ connectionString: this.absentDatabase });
      await client.connect();
    }
    return super.execute(job, delivery);
  }
}

describe('job worker when a dependency is away', () => {
  let h: ExecutorHarness;
  let dispatcher: JobDispatcher;
  let worker: JobWorker | undefined;

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
    await worker?.stop();
    await dispatcher?.stop();
    await h?.close();
  }, 60_000);

  it('retries past maxAttempts while PostgreSQL is unreachable, then computes the patch', async () => {
    const runner = new RunnerBehindAnOutage(
      {
        store: h.store,
        database: h.database,
        campaignsConfig: h.campaignsConfig,
        stepSecrets: {},
        cacheDir: join(h.dir, 'mirrors'),
        workDir: join(h.dir, 'work'),
        worker: 'outage',
      },
      3,
      `postgres://postgres@127.0.0.1:${await freePort()}/campaigns`,
    );
    worker = new JobWorker({
      nats: h.nats,
      topology: h.topology,
      runner,
      concurrency: 1,
      ackWaitMs: 10_000,
      // Fewer than the deliveries the outage lasts: counted as attempts, it would be given up.
      maxAttempts: 2,
      stopDeadlineMs: 10_000,
    });
    await worker.start();
    const repo = await h.createRepo('outage', { 'README.md': '# outage\n' });
    const { jobs } = await h.queue({
      campaign: 'outage',
      specText: specWithSteps('outage', [{ run: 'echo Hello >> README.md' }]),
      repositories: [repo],
    });

    const events = await h.result(jobs[0]!.executionId, 60_000);

    expect(runner.attempts).toEqual([1, 2, 3, 4]);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionQueued',
      'ExecutionStarted',
      'PatchComputed',
    ]);
    expect(events[1]!.data).toMatchObject({ attempt: 4 });
  }, 90_000);
});
