import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { executionStream, type ExecutionJob, type StoredEvent } from '@campaigns/events';
import {
  containersCreated,
  specWithSteps,
  startExecutorHarness,
  type ExecutorHarness,
} from '../test-support/executor-harness.js';
import { ExecutionRunner } from './execution-runner.js';

const run = promisify(execFile);

const git = async (cwd: string, ...args: string[]) =>
  (
    await run('git', args, {
      cwd,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'T',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 'T',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
      maxBuffer: 64 * 1024 * 1024,
    })
  ).stdout;

interface PatchData {
  cached: boolean;
  empty: boolean;
  diff: { sha256: string } | null;
  tree?: { sha: string; objects: { sha256: string } };
}

/** The runner alone (no queue): jobs are handed to `execute` as a worker would. */
describe('ExecutionRunner: warm containers, the tree and its pack, isolation', () => {
  let h: ExecutorHarness;
  let runner: ExecutionRunner;
  let cacheDir: string;
  const SECRET_B = `canary-secret-b-${crypto.randomUUID()}`;

  beforeAll(async () => {
    h = await startExecutorHarness();
    cacheDir = await mkdtemp(join(h.dir, 'store-'));
    runner = new ExecutionRunner({
      store: h.store,
      database: h.database,
      campaignsConfig: h.campaignsConfig,
      stepSecrets: { SECRET_B },
      cacheDir,
      workDir: join(h.dir, 'work'),
      stepTimeoutMs: 8_000,
      worker: 'runner-test',
      slots: 2,
    });
  }, 60_000);

  afterAll(async () => {
    await runner?.close();
    await h?.close();
  }, 60_000);

  const lastEvent = async (job: ExecutionJob): Promise<StoredEvent> =>
    (await h.store.readStream(executionStream(job.executionId))).at(-1)!;

  /** Proves the pack and tree: a bare repository with only the base commit can build the commit. */
  async function commitFromPack(base: string, repoName: string, patch: PatchData) {
    const scratch = await mkdtemp(join(h.dir, 'verify-'));
    await git(scratch, 'init', '--quiet', '--bare');
    await git(
      scratch,
      'fetch',
      '--quiet',
      '--depth=1',
      `${h.sim.sim.url}/acme/${repoName}.git`,
      base,
    );
    const pack = (await h.store.getBlob(patch.tree!.objects.sha256))!;
    const packFile = join(h.dir, `${repoName}-${patch.tree!.sha}.pack`);
    await writeFile(packFile, pack);
    // --strict: every object the tree names must be in the pack or the base commit.
    await run('sh', ['-c', 'git index-pack --strict --stdin < "$0"', packFile], { cwd: scratch });
    const commit = (
      await git(scratch, 'commit-tree', patch.tree!.sha, '-p', base, '-m', 'x')
    ).trim();
    return git(scratch, 'diff', '--binary', '-M', base, commit);
  }

  it('runs two workspaces of one application in one warm container, and records the tree with a self-contained pack', async () => {
    const repos = [
      await h.createRepo('warm-1', { 'README.md': '# warm 1\n', 'src/main.go': 'package main\n' }),
      await h.createRepo('warm-2', { 'README.md': '# warm 2\n', 'docs/x.md': 'x\n' }),
    ];
    const since = Date.now();
    const { applyId, jobs } = await h.queue({
      campaign: 'warm',
      specText: specWithSteps('warm', [
        {
          run: "echo Hello | tee -a $(find -name '*.md' -not -path './.git/*') && mkdir -p new/dir && echo n > new/dir/n.txt",
        },
      ]),
      repositories: repos,
    });

    for (const job of jobs)
      expect(await runner.execute(job, { attempt: 1 })).toMatchObject({ kind: 'patch' });

    expect(await containersCreated(h.docker, applyId, since)).toBe(1);
    for (const [index, job] of jobs.entries()) {
      const event = await lastEvent(job);
      const patch = event.data as PatchData;
      expect(patch.tree?.sha).toMatch(/^[0-9a-f]{40}$/);
      const recorded = (await h.store.getBlob(patch.diff!.sha256))!.toString();
      expect(await commitFromPack(repos[index]!.head, `warm-${index + 1}`, patch)).toBe(recorded);
      expect(recorded).toContain('+Hello\n');
    }
  }, 90_000);

  it('carries the tree on a step-cache hit, with no container', async () => {
    const repo = await h.createRepo('cached-tree', { 'README.md': '# cached\n' });
    const specText = specWithSteps('cached-tree', [{ run: 'echo Hello >> README.md' }]);
    const first = await h.queue({ campaign: 'cached-tree', specText, repositories: [repo] });
    await runner.execute(first.jobs[0]!, { attempt: 1 });
    const since = Date.now();
    const second = await h.queue({
      campaign: 'cached-tree',
      specText: specText.replace('My first campaign!', 'Edited'),
      repositories: [repo],
    });

    expect(await runner.execute(second.jobs[0]!, { attempt: 1 })).toMatchObject({
      kind: 'patch',
      cached: true,
    });

    const firstPatch = (await lastEvent(first.jobs[0]!)).data as PatchData;
    const secondPatch = (await lastEvent(second.jobs[0]!)).data as PatchData;
    expect(secondPatch.tree).toEqual(firstPatch.tree);
    expect(secondPatch.tree).toBeDefined();
    expect(await containersCreated(h.docker, second.applyId, since)).toBe(0);
  }, 60_000);

  it("keeps campaign B's workspace, files and secrets out of campaign A's step when both run at once", async () => {
    const canary = `canary-b-${crypto.randomUUID()}`;
    const repoA = await h.createRepo('isolated-a', { 'README.md': '# a marker-a\n' });
    const repoB = await h.createRepo('isolated-b', { 'README.md': `# b ${canary}\n` });
    const a = await h.queue({
      campaign: 'isolated-a',
      // While B runs, A looks everywhere it can for B's canary and secret.
      specText: specWithSteps('isolated-a', [
        {
          // The step's own script lies in its (read-only) control directory, so it names B's
          // canary and secret only in halves, joined at run time, or the search finds itself.
          run: `sleep 1; c1=${canary.slice(0, 20)}; c2=${canary.slice(20)}; s1=${SECRET_B.slice(0, 12)}; s2=${SECRET_B.slice(12, 24)}; d=/run/campaigns-step; seen=$( { env; cat "$d-secrets"; grep -rs -e "$c1$c2" -e "$s1$s2" -e marker-a /work /tmp /run /etc /home /root /mnt /opt /srv /var; } 2>/dev/null ); echo "$seen" > seen.txt; echo done >> README.md`,
        },
      ]),
      repositories: [repoA],
    });
    const bSpec = `name: isolated-b
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: "sleep 2; echo $SECRET_B > /tmp/secret-copy; cat /etc/b-files/config >> README.md"
    container: alpine:3
    env: [SECRET_B]
    files:
      /etc/b-files/config: "${canary}"
changesetTemplate:
  title: B
  body: B
  branch: isolated-b
  commit:
    message: B
  published: false
`;
    const b = await h.queue({ campaign: 'isolated-b', specText: bSpec, repositories: [repoB] });

    const [outcomeA, outcomeB] = await Promise.all([
      runner.execute(a.jobs[0]!, { attempt: 1 }),
      runner.execute(b.jobs[0]!, { attempt: 1 }),
    ]);

    expect(outcomeB).toMatchObject({ kind: 'patch' });
    expect(outcomeA).toMatchObject({ kind: 'patch' });
    const diffA = (await h.store.getBlob(
      ((await lastEvent(a.jobs[0]!)).data as PatchData).diff!.sha256,
    ))!.toString();
    expect(diffA).toContain('+done');
    // A's search worked: it found its own workspace's marker.
    expect(diffA).toContain('+/work/README.md:# a marker-a');
    expect(diffA).not.toContain(canary);
    expect(diffA).not.toContain(SECRET_B);
    expect(diffA).not.toContain('/run/campaigns-step-secrets');
  }, 60_000);

  it('fails an execution whose step times out in a warm container, and the next job of the application still works', async () => {
    const slow = await h.createRepo('timeout-slow', { 'README.md': 'slow\n' });
    const fast = await h.createRepo('timeout-fast', { 'README.md': 'fast\n' });
    const { jobs } = await h.queue({
      campaign: 'timeouts',
      specText: specWithSteps('timeouts', [
        { run: 'if grep -q slow README.md; then sleep 60; fi; echo Hello >> README.md' },
      ]),
      repositories: [slow, fast],
    });

    expect(await runner.execute(jobs[0]!, { attempt: 1 })).toMatchObject({
      kind: 'failed',
      reason: 'timeout',
    });
    expect(await runner.execute(jobs[1]!, { attempt: 1 })).toMatchObject({ kind: 'patch' });
    expect((await lastEvent(jobs[0]!)).data).toMatchObject({
      reason: 'timeout',
      message: 'step 1 did not finish within 8000 ms and was killed',
    });
  }, 60_000);
});
