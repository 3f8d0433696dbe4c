import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Step } from '@campaigns/campaign-spec';
import { ensureTestImage, TEST_IMAGE } from '../test-support/test-image.js';
import { createScratch, fetchAs, type Scratch } from '../test-support/workspace.js';
import { git as gitIn } from '../test-support/git-fixtures.js';
import {
  StepContainers,
  runSteps,
  type RunStepsOptions,
  type RunStepsResult,
  type StepsFailed,
  type StepsSucceeded,
} from './index.js';

const docker = new Docker();
// Containers of this test file only, whatever else runs on the engine at the same time.
const label = `campaigns.test=run-steps-${process.pid}`;
const [labelKey, labelValue] = label.split('=') as [string, string];

function step(run: string, extra: Partial<Step> = {}): Step {
  return { run, container: TEST_IMAGE, ...extra } as Step;
}

// Each test runs twice: on a workspace checked out and staged by git (a commit the store had),
// and on one checked out and staged in Node (a commit just fetched in one request).
describe.each(['git', 'node'] as const)(
  'runSteps against the Docker engine, %s checkout',
  (mode) => {
    let scratch: Scratch;
    beforeAll(async () => {
      await ensureTestImage();
      scratch = await createScratch(mode);
    });
    afterAll(async () => {
      await scratch.remove();
    });

    async function run(
      files: Record<string, string>,
      steps: Step[],
      options: Partial<RunStepsOptions> = {},
    ) {
      const { workspaceDir, baseRevision, stage } = await scratch.checkout(files);
      const result = await runSteps({
        workspaceDir,
        baseRevision,
        stage,
        steps,
        docker,
        labels: { [labelKey]: labelValue },
        ...options,
      });
      return { result, workspaceDir };
    }

    function succeeded(result: RunStepsResult): StepsSucceeded {
      // Show the failure itself when a step that should succeed fails.
      expect(result.ok ? undefined : result.failure).toBeUndefined();
      return result as StepsSucceeded;
    }

    function failed(result: RunStepsResult): StepsFailed {
      expect(result).toMatchObject({ ok: false });
      return result as StepsFailed;
    }

    async function leftoverContainers(): Promise<number> {
      const all = await docker.listContainers({ all: true, filters: { label: [label] } });
      return all.length;
    }

    it('hello world appends Hello to every .md file and returns the cumulative diff', async () => {
      const { result, workspaceDir } = await run(
        { 'README.md': '# Project\n', 'docs/guide.md': 'Guide\n', 'main.go': 'package main\n' },
        [step("echo Hello | tee -a $(find -name '*.md')")],
      );

      const ok = succeeded(result);
      expect(ok.empty).toBe(false);
      expect(ok.files).toEqual({
        modified: ['README.md', 'docs/guide.md'],
        added: [],
        deleted: [],
        renamed: [],
      });
      const diff = ok.diff.toString();
      expect(diff).toContain('diff --git a/README.md b/README.md');
      expect(diff).toContain(' # Project\n+Hello\n');
      expect(diff).toContain(' Guide\n+Hello\n');
      expect(diff).not.toContain('main.go');
      expect(ok.steps[0]).toMatchObject({ exitCode: 0, skipped: false });
      expect(ok.steps[0]!.stdout.trim()).toBe('Hello');
      // The step ran as this process's user, so the files stay ours.
      expect((await stat(join(workspaceDir, 'README.md'))).uid).toBe(process.getuid!());
      expect(await leftoverContainers()).toBe(0);
    });

    it('records additions, deletions, renames and binary files in the diff and the file lists', async () => {
      const { result } = await run({ 'old.txt': 'same content\n'.repeat(20), 'gone.txt': 'x\n' }, [
        step('mv old.txt new.txt && rm gone.txt && printf "\\000\\001\\002" > blob.bin'),
      ]);

      const ok = succeeded(result);
      expect(ok.files).toEqual({
        modified: [],
        added: ['blob.bin'],
        deleted: ['gone.txt'],
        renamed: ['new.txt'],
      });
      expect(ok.diff.toString()).toContain('GIT binary patch');
      expect(ok.diff.toString()).toContain('rename from old.txt');
      expect(ok.fileDiffs.map((file) => file.path)).toEqual(['blob.bin', 'gone.txt', 'new.txt']);
      expect(ok.fileDiffs.map((file) => file.patch).join('')).toBe(ok.diff.toString());
      expect(ok.fileDiffs[1]!.patch).toMatch(/^diff --git a\/gone.txt b\/gone.txt\ndeleted file/);
    });

    it('gives env from the secrets map and from values to the step, and the secret appears only where the step wrote it', async () => {
      const canary = 'canary-secret-7c4e2a';
      // Quotes, a command substitution and a newline must reach the step verbatim, not run.
      const secret = `${canary}'"$(touch /work/injected)\nline two`;
      const { result } = await run(
        { 'README.md': 'r\n' },
        [
          step(
            'test "$API_TOKEN" = "$EXPECTED" && echo "$GREETING" > greeting.txt && echo "$API_TOKEN" > leaked.txt',
            {
              env: ['API_TOKEN', { GREETING: 'hi from env' }, { EXPECTED: secret }],
            },
          ),
        ],
        { secrets: { API_TOKEN: secret, UNUSED: 'unused-secret' } },
      );

      const ok = succeeded(result);
      expect(ok.files.added).toEqual(['greeting.txt', 'leaked.txt']);
      // Only in leaked.txt's part of the diff, because the step wrote it there; nowhere else.
      const { diff, fileDiffs, ...rest } = ok;
      expect(JSON.stringify(rest)).not.toContain(canary);
      expect(diff.toString().split(canary).length - 1).toBe(1);
      expect(diff.toString()).toContain(`+${canary}`);
      expect(
        fileDiffs.filter((file) => file.patch.includes(canary)).map((file) => file.path),
      ).toEqual(['leaked.txt']);
      expect(JSON.stringify(rest) + diff.toString()).not.toContain('unused-secret');
    });

    it('keeps secrets out of the container configuration the engine stores', async () => {
      const canary = 'canary-inspect-31d8';
      const running = run(
        { 'a.md': 'a\n' },
        [step('sleep 1; test -n "$API_TOKEN"', { env: ['API_TOKEN'] })],
        {
          secrets: { API_TOKEN: canary },
        },
      );
      // While the step sleeps, read what the engine keeps about its container: look until the
      // run ends (on a loaded machine the container can take more than a few seconds to appear).
      let ended = false;
      running.then(
        () => (ended = true),
        () => (ended = true),
      );
      let inspected = '';
      while (!inspected && !ended) {
        const [container] = await docker.listContainers({ filters: { label: [label] } });
        if (container) {
          inspected = JSON.stringify(
            await docker
              .getContainer(container.Id)
              .inspect()
              .catch(() => ''),
          );
        } else {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }

      succeeded((await running).result);
      expect(inspected).toContain(labelValue);
      expect(inspected).not.toContain(canary);
    });

    it('fails with a clear message when a step names a secret the executor does not have', async () => {
      const { result } = await run({ 'a.md': 'a\n' }, [step('true', { env: ['MISSING_TOKEN'] })]);

      expect(failed(result).failure).toMatchObject({ reason: 'missing-secret', stepIndex: 0 });
      expect(failed(result).failure.message).toContain('MISSING_TOKEN');
    });

    it('makes files visible to the step without putting them in the workspace', async () => {
      const { result } = await run(
        { 'a.md': 'a\n' },
        [
          step('cat /tmp/config.txt > copy.txt && cat /etc/campaign/script.sh >> copy.txt', {
            files: {
              '/tmp/config.txt': 'from files ${{ repository.name }}\n',
              '/etc/campaign/script.sh': 'echo hi\n',
            },
          }),
        ],
        {
          templateData: {
            repository: { name: 'example.com/acme/a', branch: 'main', search_result_paths: [] },
          },
        },
      );

      const ok = succeeded(result);
      expect(ok.files.added).toEqual(['copy.txt']);
      expect(ok.diff.toString()).toContain('+from files example.com/acme/a\n+echo hi\n');
    });

    it('skips a step whose if: is false and records it as skipped', async () => {
      const { result } = await run(
        { 'a.md': 'a\n' },
        [
          step('echo first > first.txt', { if: false }),
          step('echo second > second.txt', { if: '${{ eq previous_step.stdout "" }}' }),
          step('echo third > third.txt', { if: '${{ eq repository.name "other" }}' }),
        ],
        {
          templateData: {
            repository: { name: 'example.com/acme/a', branch: 'main', search_result_paths: [] },
          },
        },
      );

      const ok = succeeded(result);
      expect(ok.steps.map((s) => s.skipped)).toEqual([true, false, true]);
      expect(ok.files.added).toEqual(['second.txt']);
    });

    it('sets text and json outputs from stdout that later steps and templates can read', async () => {
      const { result } = await run({ 'a.md': 'a\n', 'b.md': 'b\n' }, [
        step('ls *.md | wc -l', {
          outputs: { count: { value: '${{ step.stdout }}', format: 'text' } },
        }),
        step(`echo '{"name": "api", "tags": ["x", "y"]}'`, {
          outputs: { info: { value: '${{ step.stdout }}', format: 'json' } },
        }),
        step(
          'echo "${{ outputs.info.name }} ${{ index outputs.info.tags 1 }} ${{ outputs.count }}" > out.txt',
          {
            outputs: { yamlOut: { value: 'files: ${{ previous_step.stdout }}', format: 'yaml' } },
          },
        ),
      ]);

      const ok = succeeded(result);
      expect(ok.outputs).toEqual({
        count: '2\n',
        info: { name: 'api', tags: ['x', 'y'] },
        // previous_step is the json step: its stdout is a YAML flow mapping too.
        yamlOut: { files: { name: 'api', tags: ['x', 'y'] } },
      });
      expect(ok.diff.toString()).toContain('+api y 2\n');
    });

    it('reports the failing step with its exit code and stderr tail', async () => {
      const { result } = await run({ 'a.md': 'a\n' }, [
        step('echo ok'),
        step('echo partial > partial.txt; echo "something broke" >&2; exit 3'),
        step('echo never'),
      ]);

      const failure = failed(result);
      expect(failure.failure).toMatchObject({
        reason: 'command-failed',
        stepIndex: 1,
        exitCode: 3,
        stderrTail: 'something broke\n',
      });
      expect(failure.steps).toHaveLength(2);
      expect(await leftoverContainers()).toBe(0);
    });

    it('keeps only the tail of output beyond the cap', async () => {
      const { result } = await run({ 'a.md': 'a\n' }, [step('seq 1 20000; echo last line')], {
        outputCapBytes: 1000,
      });

      const ok = succeeded(result);
      expect(Buffer.byteLength(ok.steps[0]!.stdout)).toBe(1000);
      expect(ok.steps[0]!.stdout.endsWith('20000\nlast line\n')).toBe(true);
      expect(ok.steps[0]!.droppedStdoutBytes).toBeGreaterThan(100_000);
    });

    it('kills a step that outlives its timeout and says so, in seconds rather than a minute', async () => {
      const started = Date.now();
      const { result } = await run({ 'a.md': 'a\n' }, [step('echo before >&2; sleep 60')], {
        timeoutMs: 2000,
      });

      expect(failed(result).failure).toMatchObject({
        reason: 'timeout',
        stepIndex: 0,
        timeoutMs: 2000,
        stderrTail: 'before\n',
      });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await leftoverContainers()).toBe(0);
    });

    it('reports a missing image that cannot be pulled', async () => {
      const image = 'campaigns-test/missing-image:never';
      const { result } = await run({ 'a.md': 'a\n' }, [step('true', { container: image })]);

      const failure = failed(result).failure;
      expect(failure).toMatchObject({ reason: 'image-missing', stepIndex: 0, image });
      expect(failure.message).toContain(`the image ${image} is not present and cannot be pulled`);
    });

    it('says the diff is empty when the steps change nothing', async () => {
      const { result } = await run({ 'a.md': 'a\n' }, [
        step('cat a.md > /tmp/elsewhere && echo done'),
      ]);

      const ok = succeeded(result);
      expect(ok.empty).toBe(true);
      expect(ok.diff.length).toBe(0);
      expect(ok.fileDiffs).toEqual([]);
      expect(ok.files).toEqual({ modified: [], added: [], deleted: [], renamed: [] });
    });

    it('runs in the workspace path inside the repository', async () => {
      const { result } = await run(
        { 'a.md': 'root\n', 'packages/api/b.md': 'api\n' },
        [step('pwd; echo Hi >> b.md')],
        {
          path: 'packages/api',
        },
      );

      const ok = succeeded(result);
      expect(ok.steps[0]!.stdout).toBe('/work/packages/api\n');
      expect(ok.files.modified).toEqual(['packages/api/b.md']);
    });

    it('fails a step whose template does not render, naming the field', async () => {
      const { result } = await run({ 'a.md': 'a\n' }, [step('echo ${{ outputs.nope }}')]);

      expect(failed(result).failure).toMatchObject({ reason: 'template', stepIndex: 0 });
      expect(failed(result).failure.message).toContain('step 1 run: template error');
    });
  },
);

describe('runSteps in warm containers', () => {
  let scratch: Scratch;
  beforeAll(async () => {
    await ensureTestImage();
    scratch = await createScratch();
  });
  afterAll(async () => {
    await scratch.remove();
  });

  it('reports a step that kills PID 1, or whose container is killed, as a failed step, and the next run gets a new container', async () => {
    const { workspaceDir, baseRevision } = await scratch.checkout({ 'a.md': 'a\n' });
    const containers = new StepContainers({
      docker,
      workspaceDir,
      user: `${process.getuid!()}:${process.getgid!()}`,
    });
    await containers.use('application-1');
    const runIn = (run: string) =>
      runSteps({
        workspaceDir,
        baseRevision,
        steps: [step(run)],
        docker,
        containers,
        timeoutMs: 30_000,
      });
    try {
      const killedPid1 = await runIn('echo before; kill 1; sleep 20');
      expect(killedPid1).toMatchObject({
        ok: false,
        failure: { reason: 'command-failed', stepIndex: 0 },
      });
      expect((killedPid1 as StepsFailed).failure.message).toContain('its container stopped');

      const running = runIn('sleep 20');
      // Kill it once the step runs in it (a new container is made first, slowly under load).
      const ids: string[] = [];
      for (let i = 0; i < 300 && ids.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const listed = await docker.listContainers({
          filters: { label: ['campaigns.apply=application-1'] },
        });
        for (const c of listed) {
          const top = await docker
            .getContainer(c.Id)
            .top()
            .catch(() => ({ Processes: [] as string[][] }));
          if ((top.Processes ?? []).some((p: string[]) => p.join(' ').includes('sleep 20')))
            ids.push(c.Id);
        }
      }
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) await docker.getContainer(id).kill();
      expect(await running).toMatchObject({ ok: false, failure: { reason: 'command-failed' } });

      expect(await runIn('echo after >> a.md')).toMatchObject({ ok: true, empty: false });
    } finally {
      await containers.removeAll();
    }
  }, 60_000);

  it("keeps each run's output, exit code and environment apart when one container runs many workspaces", async () => {
    const { workspaceDir, baseRevision } = await scratch.checkout({ 'a.md': 'a\n' });
    const containers = new StepContainers({
      docker,
      workspaceDir,
      user: `${process.getuid!()}:${process.getgid!()}`,
    });
    await containers.use('application-output');
    const runIn = (run: string, env?: Record<string, string>) =>
      runSteps({
        workspaceDir,
        baseRevision,
        steps: [step(run, env ? { env } : {})],
        docker,
        containers,
        timeoutMs: 30_000,
      });
    try {
      // Output without a trailing newline, on both streams, then exit codes, then a large output.
      const first = await runIn('printf one; printf err1 >&2', { WHO: 'first' });
      expect(first.steps[0]).toMatchObject({ stdout: 'one', stderr: 'err1' });
      const second = await runIn('echo "$WHO"; exit 3', { WHO: 'second' });
      expect(second).toMatchObject({ ok: false, failure: { exitCode: 3 } });
      expect(second.steps[0]!.stdout).toBe('second\n');
      const big = await runIn('i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done');
      expect(big.steps[0]!.stdout.split('\n').slice(-2)).toEqual(['line-2999', '']);
      // A name no shell can export (sh drops it, as it always did) goes through docker exec.
      const odd = await runIn('echo "$WHO"', { 'A-B': 'dash', WHO: 'odd' });
      expect(odd.steps[0]!.stdout).toBe('odd\n');
      const all = await docker.listContainers({
        filters: { label: ['campaigns.apply=application-output'] },
      });
      expect(all).toHaveLength(1);
    } finally {
      await containers.removeAll();
    }
  }, 60_000);

  it('ends a warm container soon after the executor process that ran it dies', async () => {
    const { workspaceDir } = await scratch.checkout({ 'a.md': 'a\n' });
    const application = `application-crash-${process.pid}`;
    const script = `
      import Docker from 'dockerode';
      import { StepContainers } from ${JSON.stringify(new URL('../../dist/steps/index.js', import.meta.url).href)};
      const containers = new StepContainers({ docker: new Docker(), workspaceDir: ${JSON.stringify(workspaceDir)} });
      await containers.use(${JSON.stringify(application)});
      await containers.run(0, { image: ${JSON.stringify(TEST_IMAGE)}, filePaths: [], withSecrets: false }, {
        command: ['/bin/sh', '-c', 'true'], env: [], workingDir: '/work', files: [], secrets: null,
        timeoutMs: 30000, outputCapBytes: 1024,
      });
      console.log('ready');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(new URL('../..', import.meta.url).pathname),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const running = () =>
      docker.listContainers({ filters: { label: [`campaigns.apply=${application}`] } });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the child exited with ${code}`)));
      });
      expect(await running()).toHaveLength(1);
      child.kill('SIGKILL');
      const deadline = Date.now() + 20_000;
      while ((await running()).length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(await running()).toHaveLength(0);
    } finally {
      child.kill('SIGKILL');
      for (const c of await docker.listContainers({
        all: true,
        filters: { label: [`campaigns.apply=${application}`] },
      }))
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined);
    }
  }, 60_000);

  it.each(['git', 'node'] as const)(
    'packs a tree whose new content the store already had from another commit, self-contained against the base alone (%s checkout)',
    async (mode) => {
      const first = await scratch.checkout({ 'README.md': 'one\n' });
      // The store also holds a later commit with z.txt; the step writes the same content at the base.
      await first.remote.commit({ 'z.txt': 'zzz\n', 'README.md': 'two\n' }, 'later');
      const later = await fetchAs(mode, {
        url: first.remote.url,
        repository: `example.com/acme/repo-${first.remote.head}`,
        revision: 'main',
        cacheDir: scratch.cacheDir,
        workspaceDir: join(scratch.dir, `later-${first.remote.head}`),
      });
      const base = await fetchAs(mode, {
        url: first.remote.url,
        repository: `example.com/acme/repo-${first.remote.head}`,
        revision: first.remote.head,
        cacheDir: scratch.cacheDir,
        workspaceDir: join(scratch.dir, `base-${first.remote.head}`),
      });
      expect(later.storeDir).toBe(base.storeDir);

      const result = await runSteps({
        workspaceDir: base.workspaceDir,
        baseRevision: base.baseRevision,
        stage: base.stage,
        steps: [
          step('mkdir -p sub && echo zzz > z.txt && echo zzz > sub/z.txt && echo new > sub/n.txt'),
        ],
        docker,
      });

      expect(result.ok).toBe(true);
      const ok = result as StepsSucceeded;
      const verify = join(scratch.dir, `verify-${first.remote.head}`);
      await gitIn(scratch.dir, 'init', '--quiet', '--bare', verify);
      await gitIn(verify, 'fetch', '--quiet', first.remote.url, first.remote.head);
      // --strict: every object the tree names must be in the pack or the base commit.
      await new Promise<void>((resolve, reject) => {
        const child = spawn('git', ['index-pack', '--strict', '--stdin'], {
          cwd: verify,
          stdio: ['pipe', 'ignore', 'inherit'],
        });
        child.on('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`index-pack exited ${code}`)),
        );
        child.stdin.end(ok.tree!.pack);
      });
      const commit = (
        await gitIn(verify, 'commit-tree', ok.tree!.sha, '-p', base.baseRevision, '-m', 'x')
      ).trim();
      expect(await gitIn(verify, 'diff', '--binary', '-M', base.baseRevision, commit)).toBe(
        ok.diff.toString(),
      );
    },
    60_000,
  );
});
