import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecutionRunner } from '../execution/execution-runner.js';
import {
  containersCreated,
  specWithSteps,
  startExecutorHarness,
  type ExecutorHarness,
} from '../test-support/executor-harness.js';
import { JobDispatcher } from './job-dispatcher.js';
import { JobWorker } from './job-worker.js';

const CANARY = `canary-step-secret-${crypto.randomUUID()}`;

describe('executor jobs: dispatcher and workers against PostgreSQL, JetStream, Docker and the GitHub simulator', () => {
  let h: ExecutorHarness;
  let dispatcher: JobDispatcher;
  const workers: JobWorker[] = [];
  let cacheDir: string;

  const startWorker = async (name: string) => {
    const runner = new ExecutionRunner({
      store: h.store,
      database: h.database,
      campaignsConfig: h.campaignsConfig,
      stepSecrets: { CANARY_SECRET: CANARY },
      cacheDir,
      workDir: join(h.dir, 'work'),
      stepTimeoutMs: 30_000,
      worker: name,
    });
    const worker = new JobWorker({
      nats: h.nats,
      topology: h.topology,
      runner,
      concurrency: 1,
      ackWaitMs: 10_000,
      maxAttempts: 5,
      stopDeadlineMs: 10_000,
    });
    await worker.start();
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    h = await startExecutorHarness();
    cacheDir = await mkdtemp(join(h.dir, 'mirrors-'));
    dispatcher = new JobDispatcher({
      store: h.store,
      database: h.database,
      nats: h.nats,
      topology: h.topology,
    });
    await dispatcher.start();
    await startWorker('worker-1');
  }, 60_000);

  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await dispatcher?.stop();
    await h?.close();
  }, 60_000);

  it('turns a queued hello-world job into PatchComputed with the diff and the results in the blob table', async () => {
    const repo = await h.createRepo('hello', { 'README.md': '# hello\n', 'docs/guide.md': 'g\n' });
    const specText = specWithSteps('hello-world', [
      { run: "echo Hello | tee -a $(find -name '*.md')" },
    ]);
    const since = Date.now();
    const { applyId, jobs, queuedEventIds } = await h.queue({
      campaign: 'hello-world',
      specText,
      repositories: [repo],
    });
    const job = jobs[0]!;

    const events = await h.result(job.executionId);

    expect(events.map((e) => e.type)).toEqual([
      'ExecutionQueued',
      'ExecutionStarted',
      'PatchComputed',
    ]);
    const [, started, patch] = events;
    expect(started!.data).toEqual({
      executionId: job.executionId,
      campaign: 'hello-world',
      applyId,
      repository: repo.repository,
      attempt: 1,
      worker: 'worker-1',
    });
    expect(patch!.metadata).toEqual({
      correlation_id: applyId,
      causation_id: queuedEventIds[0],
      actor: 'alice',
      source: 'executor-service',
    });
    const data = patch!.data as {
      empty: boolean;
      cached: boolean;
      diff: { sha256: string; size: number };
      results: { sha256: string };
      files: unknown;
      steps: { exitCode: number; skipped: boolean }[];
      workspace: unknown;
    };
    expect(data).toMatchObject({
      empty: false,
      cached: false,
      workspace: job.workspace,
      files: { modified: ['README.md', 'docs/guide.md'], added: [], deleted: [], renamed: [] },
      steps: [{ stepIndex: 0, skipped: false, exitCode: 0 }],
    });
    const diff = (await h.store.getBlob(data.diff.sha256))!.toString();
    expect(diff).toContain('diff --git a/README.md b/README.md');
    expect(diff).toContain(' # hello\n+Hello\n');
    expect(diff).toContain('diff --git a/docs/guide.md b/docs/guide.md');
    expect(data.diff.size).toBe(Buffer.byteLength(diff));
    const results = JSON.parse((await h.store.getBlob(data.results.sha256))!.toString()) as {
      steps: { stdout: string; files: unknown }[];
      fileDiffs: { path: string }[];
    };
    expect(results.steps[0]!.stdout).toBe('Hello\n');
    expect(results.fileDiffs.map((f) => f.path).sort()).toEqual(['README.md', 'docs/guide.md']);
    expect(await containersCreated(h.docker, applyId, since)).toBe(1);

    // The dispatcher recorded the job it published.
    const { rows } = await h.db.pool.query(
      'SELECT execution_id, event_id FROM executor_service.dispatched_executions WHERE execution_id = $1',
      [job.executionId],
    );
    expect(rows).toEqual([{ execution_id: job.executionId, event_id: queuedEventIds[0] }]);
  }, 90_000);

  it('reuses the step cache for the same repository, commit and steps: PatchComputed cached, no container', async () => {
    const repo = await h.createRepo('cached', { 'README.md': '# cached\n' });
    const specText = specWithSteps('cache-me', [
      { run: "echo Hello | tee -a $(find -name '*.md')" },
    ]);
    const first = await h.queue({ campaign: 'cache-me', specText, repositories: [repo] });
    const firstEvents = await h.result(first.jobs[0]!.executionId);
    const firstPatch = firstEvents.at(-1)!.data as Record<string, unknown>;
    expect(firstPatch.cached).toBe(false);

    // Re-applied (another applyId, e.g. only the changesetTemplate changed): same steps, same commit.
    const since = Date.now();
    const second = await h.queue({
      campaign: 'cache-me',
      specText: specText.replace('My first campaign!', 'Edited body'),
      repositories: [repo],
    });
    const secondEvents = await h.result(second.jobs[0]!.executionId);
    const secondPatch = secondEvents.at(-1)!;

    expect(secondPatch.type).toBe('PatchComputed');
    // Nothing ran: the result is recorded alone, without an ExecutionStarted.
    expect(secondEvents.map((e) => e.type)).toEqual(['ExecutionQueued', 'PatchComputed']);
    expect(firstEvents.map((e) => e.type)).toEqual([
      'ExecutionQueued',
      'ExecutionStarted',
      'PatchComputed',
    ]);
    expect(secondPatch.data).toMatchObject({
      cached: true,
      applyId: second.applyId,
      diff: firstPatch.diff,
      results: firstPatch.results,
      files: firstPatch.files,
    });
    expect(await containersCreated(h.docker, second.applyId, since)).toBe(0);

    // A changed step is not a hit.
    const third = await h.queue({
      campaign: 'cache-me',
      specText: specWithSteps('cache-me', [{ run: "echo Bye | tee -a $(find -name '*.md')" }]),
      repositories: [repo],
    });
    expect((await h.result(third.jobs[0]!.executionId)).at(-1)!.data).toMatchObject({
      cached: false,
    });
  }, 90_000);

  it('records a failing step as ExecutionFailed with its exit code and stderr tail', async () => {
    const repo = await h.createRepo('failing', { 'README.md': '# failing\n' });
    const { jobs } = await h.queue({
      campaign: 'failing',
      specText: specWithSteps('failing', [
        { run: 'true' },
        { run: 'echo "cannot do it" >&2; exit 1' },
      ]),
      repositories: [repo],
    });

    const events = await h.result(jobs[0]!.executionId);

    expect(events.at(-1)!.type).toBe('ExecutionFailed');
    expect(events.at(-1)!.data).toEqual({
      executionId: jobs[0]!.executionId,
      campaign: 'failing',
      applyId: jobs[0]!.applyId,
      repository: repo.repository,
      path: '',
      reason: 'command-failed',
      stepIndex: 1,
      exitCode: 1,
      message: 'step 2 exited with code 1',
      stderrTail: 'cannot do it\n',
    });
  }, 90_000);

  it("records a missing image that cannot be pulled as ExecutionFailed 'image-missing'", async () => {
    const repo = await h.createRepo('no-image', { 'README.md': '# no image\n' });
    const image = 'campaigns-test/missing-image:never';
    const { jobs } = await h.queue({
      campaign: 'no-image',
      specText: specWithSteps('no-image', [{ run: 'true', container: image }]),
      repositories: [repo],
    });

    const failed = (await h.result(jobs[0]!.executionId)).at(-1)!;

    expect(failed.type).toBe('ExecutionFailed');
    const data = failed.data as { reason: string; stepIndex: number; message: string };
    expect(data).toMatchObject({ reason: 'image-missing', stepIndex: 0, exitCode: null });
    expect(data.message).toContain(`the image ${image} is not present and cannot be pulled`);
  }, 90_000);

  it("retries a repository that cannot be fetched, then records ExecutionFailed 'fetch'", async () => {
    const repo = await h.createRepo('vanishing', { 'README.md': '# vanishing\n' });
    const { jobs } = await h.queue({
      campaign: 'vanishing',
      specText: specWithSteps('vanishing', [{ run: 'true' }]),
      repositories: [{ repository: repo.repository, head: 'f'.repeat(40) }],
    });

    const history = await h.result(jobs[0]!.executionId);
    const failed = history.at(-1)!;

    // A fetch failure may be the code host's passing trouble: every delivery tries again, with
    // backoff, and only the last one (maxAttempts = 5 here) records the failure.
    expect(
      history
        .filter((e) => e.type === 'ExecutionStarted')
        .map((e) => (e.data as { attempt: number }).attempt),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(failed.type).toBe('ExecutionFailed');
    expect(failed.data).toMatchObject({ reason: 'fetch', stepIndex: null });
    expect((failed.data as { message: string }).message).toMatch(
      new RegExp(`^cannot fetch ${repo.repository} at f{40}: `),
    );
  }, 90_000);

  it('never stores a step secret or the code host token: stdout, stderr, outputs and stderr tails are redacted', async () => {
    const repo = await h.createRepo('secretive', { 'README.md': '# secretive\n' });
    const ok = await h.queue({
      campaign: 'secretive',
      specText: specWithSteps('secretive', [
        {
          run: 'echo "out $CANARY_SECRET"; echo "err $CANARY_SECRET" >&2; echo changed >> README.md',
          env: ['CANARY_SECRET'],
        },
      ]),
      repositories: [repo],
    });
    const failing = await h.queue({
      campaign: 'secretive-failing',
      specText: specWithSteps('secretive-failing', [
        { run: 'echo "tail $CANARY_SECRET" >&2; exit 3', env: ['CANARY_SECRET'] },
      ]),
      repositories: [repo],
    });

    const patch = (await h.result(ok.jobs[0]!.executionId)).at(-1)!;
    const failed = (await h.result(failing.jobs[0]!.executionId)).at(-1)!;

    expect(patch.type).toBe('PatchComputed');
    const results = JSON.parse(
      (await h.store.getBlob(
        (patch.data as { results: { sha256: string } }).results.sha256,
      ))!.toString(),
    ) as { steps: { stdout: string; stderr: string }[] };
    // The step did get the secret: what it printed is there, with the value replaced.
    expect(results.steps[0]).toMatchObject({
      stdout: 'out [redacted]\n',
      stderr: 'err [redacted]\n',
    });
    expect(failed.data).toMatchObject({
      reason: 'command-failed',
      stderrTail: 'tail [redacted]\n',
    });

    const { rows } = await h.db.pool.query<{ text: string }>(
      `SELECT data::text || metadata::text AS text FROM eventstore.events
       UNION ALL SELECT encode(content, 'escape') FROM eventstore.blobs`,
    );
    expect(rows.length).toBeGreaterThan(5);
    for (const secret of [CANARY, h.sim.token]) {
      expect(rows.filter((r) => r.text.includes(secret))).toEqual([]);
    }
  }, 90_000);

  it('shares the work between two worker replicas pulling from the one durable consumer', async () => {
    const second = await startWorker('worker-2');
    expect(second.ready()).toBe(true);
    const repos = [];
    for (let i = 0; i < 6; i++)
      repos.push(await h.createRepo(`replica-${i}`, { 'README.md': `# ${i}\n` }));
    const { jobs } = await h.queue({
      campaign: 'replicas',
      specText: specWithSteps('replicas', [
        { run: "sleep 1; echo Hello | tee -a $(find -name '*.md')" },
      ]),
      repositories: repos,
    });

    const streams = await Promise.all(jobs.map((j) => h.result(j.executionId, 120_000)));

    expect(streams.map((events) => events.at(-1)!.type)).toEqual(Array(6).fill('PatchComputed'));
    const workersUsed = streams.map(
      (events) =>
        (events.find((e) => e.type === 'ExecutionStarted')!.data as { worker: string }).worker,
    );
    expect(new Set(workersUsed)).toEqual(new Set(['worker-1', 'worker-2']));
    // Each job ran exactly once.
    expect(
      streams.map((events) => events.filter((e) => e.type === 'ExecutionStarted').length),
    ).toEqual(Array(6).fill(1));
  }, 180_000);
});
