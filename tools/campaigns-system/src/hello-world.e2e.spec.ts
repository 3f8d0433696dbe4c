// E1's end-to-end scenarios: the hello-world campaign through every real part — the CLI, NATS
// JetStream, PostgreSQL, Docker, git, the four services as processes and the GitHub simulator
// driven by the production GitHub adapter.
import { createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FullCampaignStatus, ChangesetStatus, PreviewResult } from '@campaigns/contracts';
import { ensureStepImage as ensureTestImage } from './step-image.js';
import {
  eventually,
  startSystem,
  storedEvents,
  type RunningSystem,
} from './test-support/system.js';

const CANARY = `ghp_canary${'7'.repeat(30)}`;
const HELLO_STEP = `echo Hello | tee -a $(find -name '*.md')`;

interface SpecOptions {
  name?: string;
  published?: string;
  title?: string;
  step?: string;
  branch?: string;
  query?: string;
}

function specText(o: SpecOptions = {}): string {
  return `name: ${o.name ?? 'hello-world'}
description: Add Hello World to READMEs
on:
  - repositoriesMatchingQuery: ${o.query ?? 'file:README.md'}
steps:
  - run: ${o.step ?? HELLO_STEP}
    container: alpine:3
changesetTemplate:
  title: ${o.title ?? 'Hello World'}
  body: My first campaign!
  branch: ${o.branch ?? 'hello-world'}
  commit:
    message: Append Hello to .md files
  published: ${o.published ?? 'true'}
`;
}

interface PullJson {
  number: number;
  state: string;
  draft: boolean;
  merged_at: string | null;
  title: string;
  body: string | null;
  html_url: string;
  head: { ref: string; sha: string };
  base: { ref: string };
}

describe('hello-world end to end', () => {
  let system: RunningSystem;
  let specFile: string;

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${system.env.sim.apiUrl}${path}`, {
      headers: { authorization: `token ${system.env.sim.adminToken}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
  const repoName = (i: number) => `repo-${String(i).padStart(5, '0')}`;
  const pulls = (i: number, head = 'hello-world') =>
    api<PullJson[]>(`/repos/acme/${repoName(i)}/pulls?state=all&per_page=100`).then((all) =>
      all.filter((p) => p.head.ref === head),
    );

  /** The files a pull request changes, with their content at its head. */
  async function changedFiles(i: number, pr: PullJson) {
    const files = await api<{ filename: string; additions: number }[]>(
      `/repos/acme/${repoName(i)}/pulls/${pr.number}/files`,
    );
    return Promise.all(
      files.map(async (f) => {
        const file = await api<{ content: string }>(
          `/repos/acme/${repoName(i)}/contents/${f.filename}?ref=${pr.head.sha}`,
        );
        return { ...f, content: Buffer.from(file.content, 'base64').toString('utf8') };
      }),
    );
  }

  async function apply(text: string, ...flags: string[]) {
    await writeFile(specFile, text);
    return system.cli(['apply', '-f', specFile, ...flags]);
  }
  async function applyAndWait(text: string): Promise<FullCampaignStatus> {
    const result = await apply(text, '--wait', '--json');
    if (result.code !== 0) {
      throw new Error(`apply exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }
    return (JSON.parse(result.stdout) as { status: FullCampaignStatus }).status;
  }
  async function status(name = 'hello-world'): Promise<FullCampaignStatus> {
    const result = await system.cli(['status', name, '--json']);
    if (result.code !== 0) throw new Error(`status exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as FullCampaignStatus;
  }
  const byRepo = (s: FullCampaignStatus) =>
    new Map<string, ChangesetStatus>(s.changesets.map((c) => [c.repository, c]));

  beforeAll(async () => {
    await ensureTestImage();
    system = await startSystem({ repos: 20, token: CANARY });
    specFile = join(system.workDir, 'hello-world.campaign.yaml');
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it('publishes 20 pull requests, each appending Hello to every .md file, as templated', async () => {
    const final = await applyAndWait(specText());
    expect(final.phase).toBe('complete');
    expect(final.changesets).toHaveLength(20);
    for (const c of final.changesets) {
      expect(c.state).toBe('open');
      expect(c.url).toMatch(/\/pull\/\d+$/);
    }
    for (let i = 1; i <= 20; i++) {
      const [pr, ...others] = await pulls(i);
      expect(others).toHaveLength(0);
      expect(pr).toMatchObject({ state: 'open', draft: false, title: 'Hello World' });
      expect(pr!.body).toContain('My first campaign!');
      const files = await changedFiles(i, pr!);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        expect(f.filename).toMatch(/\.md$/);
        expect(f.additions).toBe(1);
        expect(f.content.endsWith('\nHello\n')).toBe(true);
      }
      const commits = await api<{ commit: { message: string } }[]>(
        `/repos/acme/${repoName(i)}/pulls/${pr!.number}/commits`,
      );
      expect(commits.map((c) => c.commit.message)).toEqual(['Append Hello to .md files']);
    }
  }, 600_000);

  it('re-applying the identical spec makes no request to the code host', async () => {
    const before = await system.env.sim.control.call('requests', {});
    const since = before.length === 0 ? 0 : before[before.length - 1]!.seq;
    const eventsBefore = (await storedEvents(system.db.pool)).length;
    const result = await apply(specText(), '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ unchanged: true });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await system.env.sim.control.call('requests', { since });
    expect(after.filter((r) => r.kind !== 'control')).toEqual([]);
    expect((await storedEvents(system.db.pool)).length).toBe(eventsBefore);
  }, 60_000);

  it('previews a new title and five dropped repositories without recording anything', async () => {
    const eventsBefore = (await storedEvents(system.db.pool)).length;
    await writeFile(
      specFile,
      specText({ title: 'Hello, World', query: 'file:README.md -repo:repo-0000[1-5]$' }),
    );
    const result = await system.cli(['preview', '-f', specFile, '--json']);
    expect(result.code).toBe(0);
    const preview = JSON.parse(result.stdout) as PreviewResult;
    const actions = new Map(preview.rows.map((r) => [r.repository, r.action]));
    expect(preview.rows).toHaveLength(20);
    for (let i = 1; i <= 20; i++) {
      expect(actions.get(system.env.repo(repoName(i)))).toBe(i <= 5 ? 'close' : 'update');
    }
    const table = await system.cli(['preview', '-f', specFile]);
    expect(table.stdout).toContain('close');
    expect((await storedEvents(system.db.pool)).length).toBe(eventsBefore);
  }, 60_000);

  it('updates titles in place, and pushes a new commit when the step changes', async () => {
    const numbers = await Promise.all([1, 2, 3].map(async (i) => (await pulls(i))[0]!.number));
    await applyAndWait(specText({ title: 'Hello, World' }));
    for (const [k, i] of [1, 2, 3].entries()) {
      const all = await pulls(i);
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ number: numbers[k], title: 'Hello, World', state: 'open' });
    }
    const headBefore = (await pulls(4))[0]!.head.sha;
    await applyAndWait(
      specText({ title: 'Hello, World', step: `echo Hello World | tee -a $(find -name '*.md')` }),
    );
    const [pr] = await pulls(4);
    expect(pr!.head.sha).not.toBe(headBefore);
    const files = await changedFiles(4, pr!);
    expect(files[0]!.content.endsWith('\nHello World\n')).toBe(true);
  }, 600_000);

  const CURRENT = { title: 'Hello, World', step: `echo Hello World | tee -a $(find -name '*.md')` };

  it('closes exactly the pull requests of repositories that left the spec, and reopens them', async () => {
    const without = await applyAndWait(
      specText({ ...CURRENT, query: 'file:README.md -repo:repo-0000[1-5]$' }),
    );
    expect(without.phase).toBe('complete');
    for (let i = 1; i <= 20; i++) {
      const [pr] = await pulls(i);
      expect(pr!.state).toBe(i <= 5 ? 'closed' : 'open');
    }
    const back = await applyAndWait(specText(CURRENT));
    expect(back.phase).toBe('complete');
    for (let i = 1; i <= 20; i++) {
      const all = await pulls(i);
      expect(all).toHaveLength(1);
      expect(all[0]!.state).toBe('open');
    }
  }, 600_000);

  it('shows a pull request merged and another closed on the code host', async () => {
    const merged = (await pulls(6))[0]!;
    const closed = (await pulls(7))[0]!;
    const started = Date.now();
    await system.env.sim.control.call('mergePullRequest', {
      owner: 'acme',
      name: repoName(6),
      number: merged.number,
    });
    await system.env.sim.control.call('closePullRequest', {
      owner: 'acme',
      name: repoName(7),
      number: closed.number,
    });
    const seen = await eventually('status to show the merge and the close', async () => {
      const s = byRepo(await status());
      const m = s.get(system.env.repo(repoName(6)));
      const c = s.get(system.env.repo(repoName(7)));
      return m?.state === 'merged' && c?.state === 'closed' ? Date.now() - started : undefined;
    });
    // The issue asks for 2 s; timing is not asserted here (a loaded CI machine), it is reported.
    console.log(`webhook → campaign status: ${seen} ms`);
  }, 60_000);

  it('rejects an invalid spec with file:line:col and records nothing', async () => {
    const before = (await storedEvents(system.db.pool)).length;
    const result = await apply(`${specText()}unknownField: 1\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${specFile.replace(/[.]/g, '\\.')}:\\d+:\\d+`));
    expect((await storedEvents(system.db.pool)).length).toBe(before);
  }, 60_000);

  it('answers a forged webhook with 401 and records nothing', async () => {
    const before = (await storedEvents(system.db.pool)).length;
    const body = JSON.stringify({ action: 'closed', number: 1 });
    const forged = createHmac('sha256', 'not-the-secret').update(body).digest('hex');
    const response = await fetch(`${system.gatewayUrl()}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': 'forged-1',
        'x-hub-signature-256': `sha256=${forged}`,
      },
      body,
    });
    expect(response.status).toBe(401);
    expect((await storedEvents(system.db.pool)).length).toBe(before);
  }, 60_000);

  it('shows a step that exits 1 as a failed execution with its stderr', async () => {
    const failing = join(system.workDir, 'failing.campaign.yaml');
    await writeFile(
      failing,
      specText({
        name: 'failing',
        branch: 'failing',
        query: `repo:${repoName(1)}$`,
        step: `sh -c 'echo something broke >&2; exit 1'`,
      }),
    );
    const result = await system.cli(['apply', '-f', failing, '--wait', '--json']);
    expect(result.code).toBe(3);
    const s = await status('failing');
    expect(s.phase).toBe('needs-attention');
    expect(s.executions).toHaveLength(1);
    expect(s.executions[0]).toMatchObject({ state: 'failed' });
    expect(s.executions[0]!.stderrTail).toContain('something broke');
    const table = await system.cli(['status', 'failing']);
    expect(table.stdout + table.stderr).toContain('something broke');
  }, 300_000);

  /** A campaign over repo-00003, a node monorepo: package.json at the root and in packages/{cli,core,web}. */
  const monoSpec = (name: string, branch: string) => `name: ${name}
description: One branch for every project
on:
  - repositoriesMatchingQuery: repo:${repoName(3)}$
workspaces:
  - rootAtLocationOf: package.json
    in: "*/${repoName(3)}"
steps:
  - run: echo touched > TOUCHED.md
    container: alpine:3
changesetTemplate:
  title: Touch every project
  body: One branch for all of them
  branch: ${branch}
  commit:
    message: Touch
  published: true
`;

  it('refuses a static branch for a monorepo of several workspaces before anything runs, in preview and at apply, naming them', async () => {
    const file = join(system.workDir, 'mono-static.campaign.yaml');
    await writeFile(file, monoSpec('mono-static', 'mono-static'));
    const refusal = `multiple changeset specs would have the same branch "mono-static": changesetTemplate.branch is the same for every workspace of a repository, and these have several: `;
    const named = '(root), packages/cli, packages/core, packages/web)';

    const preview = await system.cli(['preview', '-f', file, '--json']);
    expect(preview.code).toBe(0);
    const previewed = JSON.parse(preview.stdout) as PreviewResult;
    expect(previewed.problems[0]!.entry).toBe('changesetTemplate.branch');
    expect(previewed.problems[0]!.message).toContain(refusal);
    expect(previewed.problems[0]!.message).toContain(named);

    const result = await system.cli(['apply', '-f', file, '--wait', '--json']);
    expect(result.code).toBe(3);
    const s = await status('mono-static');
    expect(s.phase).toBe('needs-attention');
    expect(s.executions).toEqual([]);
    expect(s.changesets).toEqual([]);
    const problem = s.problems.find((p) => p.message.includes(refusal));
    expect(problem?.message).toContain(named);
    expect(await pulls(3, 'mono-static')).toEqual([]);
  }, 300_000);

  it('refuses the workspaces of a monorepo whose templated branch renders the same: one pull request, the others failed naming both workspaces, nothing force-pushed', async () => {
    // A templated branch that renders the same for every workspace: found once rendered.
    const mono = join(system.workDir, 'mono.campaign.yaml');
    await writeFile(mono, monoSpec('mono', '${{ batch_change.name }}-static'));
    const result = await system.cli(['apply', '-f', mono, '--wait', '--json']);
    expect(result.code).toBe(3);
    const s = await status('mono');
    const paths = ['', 'packages/cli', 'packages/core', 'packages/web'];
    expect(s.executions.map((e) => e.path).sort()).toEqual(paths);
    const kept = s.executions.filter((e) => e.state === 'succeeded');
    const refused = s.executions.filter((e) => e.state === 'failed');
    expect(kept).toHaveLength(1);
    expect(refused).toHaveLength(3);
    const where = (p: string) => (p === '' ? 'the root' : `"${p}"`);
    for (const e of refused)
      expect(e.message).toContain(
        `multiple changeset specs have the same branch "mono-static" in ${e.repository}: workspace ${where(e.path)} and workspace ${where(kept[0]!.path)}; nothing was pushed for workspace ${where(e.path)}`,
      );
    expect(s.changesets).toHaveLength(1);
    // Status names the kept workspace's path beside the branch, unless it is the root.
    expect(s.changesets[0]!.path).toBe(kept[0]!.path === '' ? undefined : kept[0]!.path);

    // The one pull request carries the kept workspace's change and nothing of the others.
    const [pr, ...more] = await pulls(3, 'mono-static');
    expect(more).toEqual([]);
    const files = await changedFiles(3, pr!);
    expect(files.map((f) => f.filename)).toEqual([
      kept[0]!.path === '' ? 'TOUCHED.md' : `${kept[0]!.path}/TOUCHED.md`,
    ]);
  }, 300_000);

  it('checks out only the workspace with onlyFetchWorkspace: its step sees its directory and the root .gitignore, and the pull request deletes nothing else', async () => {
    // Only packages/cli's step runs; it lists every file it can see from the repository's root.
    const file = join(system.workDir, 'only-workspace.campaign.yaml');
    await writeFile(
      file,
      `name: only-workspace
description: Each project sees only itself
on:
  - repositoriesMatchingQuery: repo:${repoName(3)}$
workspaces:
  - rootAtLocationOf: package.json
    in: "*/${repoName(3)}"
    onlyFetchWorkspace: true
steps:
  - run: '(cd /work && find . -path ./.git -prune -o -type f -print) | sort > /tmp/seen && mv /tmp/seen seen.txt'
    container: alpine:3
    if: \${{ eq steps.path "packages/cli" }}
changesetTemplate:
  title: What the step saw
  body: onlyFetchWorkspace
  branch: only-workspace-\${{ replace steps.path "/" "-" }}
  commit:
    message: List the files the step saw
  published: true
`,
    );
    const result = await system.cli(['apply', '-f', file, '--wait', '--json']);
    if (result.code !== 0) {
      throw new Error(`apply exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    }

    const [pr, ...more] = await pulls(3, 'only-workspace-packages-cli');
    expect(more).toEqual([]);
    const files = await api<{ filename: string; status: string }[]>(
      `/repos/acme/${repoName(3)}/pulls/${pr!.number}/files`,
    );
    expect(files.map((f) => [f.filename, f.status])).toEqual([['packages/cli/seen.txt', 'added']]);
    const [seen] = await changedFiles(3, pr!);
    expect(seen!.content).toBe(
      './.gitignore\n./packages/cli/package.json\n./packages/cli/src/main.ts\n',
    );
    // The files the step never saw are still in the pull request's head.
    for (const path of ['README.md', 'package.json', 'packages/core/src/index.ts']) {
      await expect(
        api(`/repos/acme/${repoName(3)}/contents/${path}?ref=${pr!.head.sha}`),
      ).resolves.toMatchObject({ path });
    }
  }, 300_000);

  it('publishes drafts, then marks the same pull requests ready', async () => {
    const drafts = join(system.workDir, 'drafts.campaign.yaml');
    const spec = (published: string) =>
      specText({ name: 'drafts', branch: 'drafts', query: `repo:repo-0001[0-2]$`, published });
    await writeFile(drafts, spec('draft'));
    let result = await system.cli(['apply', '-f', drafts, '--wait', '--json']);
    expect(result.code).toBe(0);
    const first = await Promise.all([10, 11, 12].map((i) => pulls(i, 'drafts')));
    for (const all of first) {
      expect(all).toHaveLength(1);
      expect(all[0]!.draft).toBe(true);
    }
    await writeFile(drafts, spec('true'));
    result = await system.cli(['apply', '-f', drafts, '--wait', '--json']);
    expect(result.code).toBe(0);
    for (const [k, i] of [10, 11, 12].entries()) {
      const all = await pulls(i, 'drafts');
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({ number: first[k]![0]!.number, draft: false, state: 'open' });
    }
  }, 300_000);

  it('selects exactly by topic, description and file contents, keeps count:N, reports a glob without its host, and refuses what it cannot evaluate (C1 item 5)', async () => {
    const file = join(system.workDir, 'query-semantics.campaign.yaml');
    const previewQuery = async (query: string, extra = '') => {
      await writeFile(file, `${specText({ name: 'query-semantics', query })}${extra}`);
      const result = await system.cli(['preview', '-f', file, '--json']);
      if (result.code !== 0) throw new Error(`preview exited ${result.code}: ${result.stderr}`);
      return JSON.parse(result.stdout) as PreviewResult;
    };
    const repositories = (p: PreviewResult) => [...new Set(p.rows.map((r) => r.repository))];
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api<{ full_name: string; description: string | null; topics: string[] }>(
          `/repos/acme/${repoName(i + 1)}`,
        ),
      ),
    );
    const named = (keep: (r: (typeof all)[number]) => boolean) =>
      all.filter(keep).map((r) => `${system.env.host}/${r.full_name}`);
    const monorepos = named((r) => r.topics.includes('monorepo'));
    expect(monorepos.length).toBeGreaterThan(0);
    expect(monorepos.length).toBeLessThan(20);

    const byTopic = await previewQuery('repo:has.topic(monorepo)');
    expect(repositories(byTopic)).toEqual(monorepos);
    expect(byTopic.problems).toEqual([]);
    const byDescription = await previewQuery('repo:has.description(python-package)');
    expect(repositories(byDescription)).toEqual(
      named((r) => (r.description ?? '').includes('python-package')),
    );

    // Each README says "Synthetic <template> number N": content search finds exactly those.
    const byContent = await previewQuery('file:^README\\.md$ python-package number');
    expect(repositories(byContent)).toEqual(
      named((r) => (r.description ?? '').includes('python-package')),
    );
    expect(byContent.problems).toEqual([]);

    const counted = await previewQuery('file:README.md count:2');
    expect(repositories(counted)).toEqual(
      [1, 2].map((i) => `${system.env.host}/acme/${repoName(i)}`),
    );
    expect(counted.problems.map((p) => p.message)).toEqual([
      'count:2 kept the first 2 of the 20 matching repositories (in name order); the others get no workspace',
    ]);

    const withoutHost = await previewQuery(
      'repo:has.topic(monorepo)',
      'workspaces:\n  - rootAtLocationOf: package.json\n    in: acme/*\n',
    );
    expect(withoutHost.problems).toContainEqual({
      entry: 'workspaces: rootAtLocationOf package.json in acme/*',
      message: `"acme/*" matches none of the ${monorepos.length} resolved repositories: patterns are matched against HOST/OWNER/NAME; did you mean "${system.env.host}/acme/*"?`,
    });

    await writeFile(file, specText({ name: 'query-semantics', query: 'type:commit hello' }));
    const refused = await system.cli(['validate', '-f', file]);
    expect(refused.code).toBe(1);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(
      /query-semantics\.campaign\.yaml:4:\d+: in the query: "type:commit" is not supported: commit and diff search are not evaluated/,
    );
  }, 120_000);

  it('runs each of several branches as a workspace of its own, its pull request based on that branch, and closes the one whose branch leaves the spec (C1 item 4)', async () => {
    const repo = { owner: 'acme', name: repoName(5) };
    // release: one commit ahead of main, so a changeset based on main's commit would show it reverted.
    await system.env.sim.control.call('pushCommit', {
      ...repo,
      branch: 'release',
      files: { 'RELEASE.md': 'release notes\n' },
      message: 'Cut the release',
    });
    const file = join(system.workDir, 'branches.campaign.yaml');
    const spec = (branches: string[]) => `name: branches
description: One change on every maintained branch
on:
  - repository: ${system.env.repo(repoName(5))}
    branches: [${branches.join(', ')}]
steps:
  - run: echo "on \${{ repository.branch }}" > BRANCH.md
    container: alpine:3
changesetTemplate:
  title: Note the branch
  body: One pull request per branch
  branch: branches-\${{ repository.branch }}
  commit:
    message: Note the branch
  published: true
`;
    await writeFile(file, spec(['main', 'release']));
    const result = await system.cli(['apply', '-f', file, '--wait', '--json']);
    expect(result.code).toBe(0);
    const s = await status('branches');
    expect(s.phase).toBe('complete');
    expect(s.problems).toEqual([]);
    expect(s.executions.map((e) => [e.branch, e.state]).sort()).toEqual([
      ['main', 'succeeded'],
      ['release', 'succeeded'],
    ]);
    expect(s.changesets.map((c) => [c.headBranch, c.state]).sort()).toEqual([
      ['branches-main', 'open'],
      ['branches-release', 'open'],
    ]);
    for (const branch of ['main', 'release']) {
      const [pr, ...more] = await pulls(5, `branches-${branch}`);
      expect(more).toEqual([]);
      expect(pr!.base.ref).toBe(branch);
      // Based on its own branch: only the step's file changes, nothing of the other branch.
      const files = await changedFiles(5, pr!);
      expect(files.map((f) => [f.filename, f.content])).toEqual([['BRANCH.md', `on ${branch}\n`]]);
    }

    // Dropping a branch from the spec closes its pull request and leaves the other one alone.
    await writeFile(file, spec(['main']));
    expect((await system.cli(['apply', '-f', file, '--wait', '--json'])).code).toBe(0);
    const [release] = await pulls(5, 'branches-release');
    expect(release!.state).toBe('closed');
    const [main] = await pulls(5, 'branches-main');
    expect(main!.state).toBe('open');
  }, 300_000);

  it('imports pull requests opened by hand: tracked, shown in status, never pushed to; a missing number or repository is a clear problem; one no longer listed is detached and left open (C1 item 2)', async () => {
    const repo = { owner: 'acme', name: repoName(6) };
    const byHand = async (branch: string) => {
      await system.env.sim.control.call('pushCommit', {
        ...repo,
        branch,
        files: { [`${branch}.md`]: 'by hand\n' },
        message: 'By hand',
      });
      return system.env.sim.control.call('openPullRequest', {
        ...repo,
        head: branch,
        title: `Opened by hand: ${branch}`,
      });
    };
    const first = await byHand('by-hand-1');
    const second = await byHand('by-hand-2');
    const file = join(system.workDir, 'imports.campaign.yaml');
    const spec = (numbers: number[]) => `name: imports
description: Track pull requests opened by hand
importChangesets:
  - repository: ${system.env.repo(repoName(6))}
    externalIDs: [${numbers.join(', ')}]
  - repository: ${system.env.repo('no-such-repo')}
    externalIDs: [1]
`;
    await writeFile(file, spec([first.number, second.number, 999]));
    const previewed = JSON.parse(
      (await system.cli(['preview', '-f', file, '--json'])).stdout,
    ) as PreviewResult;
    expect(previewed.rows.map((r) => [r.headBranch, r.action]).sort()).toEqual(
      [
        [`#${first.number}`, 'import'],
        [`#${second.number}`, 'import'],
        ['#999', 'import'],
      ].sort(),
    );
    expect((await system.cli(['apply', '-f', file])).code).toBe(0);

    const rows = (s: FullCampaignStatus) =>
      s.changesets.map((c) => [c.headBranch, c.state, c.imported ?? false, c.errorTerminal]).sort();
    const s = await eventually('the imports read', async () => {
      const now = await status('imports');
      return now.changesets.length === 3 &&
        now.changesets.every((c) => c.converged || c.errorTerminal)
        ? now
        : undefined;
    });
    expect(rows(s)).toEqual(
      [
        [`#${first.number}`, 'open', true, false],
        [`#${second.number}`, 'open', true, false],
        ['#999', 'pending', true, true],
      ].sort(),
    );
    expect(s.changesets.find((c) => c.headBranch === `#${first.number}`)).toMatchObject({
      url: (await pulls(6, first.head.ref))[0]!.html_url,
      number: first.number,
    });
    expect(s.changesets.find((c) => c.headBranch === '#999')!.lastError).toBe(
      `import ${system.env.repo(repoName(6))}: pull request #999 not found; remove it from importChangesets or correct the number`,
    );
    expect(s.problems).toEqual([
      {
        entry: `importChangesets: ${system.env.repo('no-such-repo')}`,
        message: expect.stringContaining(`repository ${system.env.repo('no-such-repo')} not found`),
      },
    ]);
    expect(s.phase).toBe('needs-attention');
    // Never pushed to: both heads are where their authors left them.
    for (const pr of [first, second]) {
      const [now] = await pulls(6, pr.head.ref);
      expect(now!.head.sha).toBe(pr.head.sha);
    }

    // Merged on the code host: the webhook says so.
    await system.env.sim.control.call('mergePullRequest', { ...repo, number: second.number });
    await eventually('the merge seen', async () =>
      (await status('imports')).changesets.some(
        (c) => c.headBranch === `#${second.number}` && c.state === 'merged',
      )
        ? true
        : undefined,
    );

    // No longer listed: detached, left open, not counted.
    await writeFile(file, spec([second.number]));
    const detaching = JSON.parse(
      (await system.cli(['preview', '-f', file, '--json'])).stdout,
    ) as PreviewResult;
    expect(detaching.rows.map((r) => [r.headBranch, r.action]).sort()).toEqual(
      [
        [`#${first.number}`, 'detach'],
        [`#${second.number}`, 'unchanged'],
        ['#999', 'detach'],
      ].sort(),
    );
    expect((await system.cli(['apply', '-f', file])).code).toBe(0);
    const after = await eventually('the first detached', async () => {
      const now = await status('imports');
      return now.changesets.some((c) => c.state === 'detached') ? now : undefined;
    });
    expect(rows(after)).toEqual(
      [
        [`#${first.number}`, 'detached', true, false],
        [`#${second.number}`, 'merged', true, false],
        // Never found, so never tracked: gone with its entry.
        ['#999', 'removed', true, false],
      ].sort(),
    );
    expect(after.counts).toMatchObject({ changesets: 1, open: 0, merged: 1 });
    const [left] = await pulls(6, first.head.ref);
    expect(left!.state).toBe('open');
    expect(left!.head.sha).toBe(first.head.sha);
    const audit = await system.cli(['audit', 'imports']);
    expect(audit.stdout).toContain(`import of PR #${first.number} requested`);
    expect(audit.stdout).toContain('reconciled (detach)');
  }, 300_000);

  it('closes a campaign with its pull requests, refuses applies to it, deletes it from list and status with its history kept, and takes its name anew (M1 item 3)', async () => {
    const file = join(system.workDir, 'lifecycle.campaign.yaml');
    await writeFile(
      file,
      `name: lifecycle
description: A campaign that is closed and deleted
on:
  - repository: ${system.env.repo(repoName(7))}
steps:
  - run: echo lifecycle > LIFECYCLE.md
    container: alpine:3
changesetTemplate:
  title: Lifecycle
  body: Closed soon
  branch: lifecycle
  commit:
    message: Add LIFECYCLE.md
  published: true
`,
    );
    expect((await system.cli(['apply', '-f', file, '--wait', '--json'])).code).toBe(0);
    const [pr] = await pulls(7, 'lifecycle');
    expect(pr!.state).toBe('open');

    // Deleting an open campaign is refused; closing it closes its pull request.
    const early = await system.cli(['delete', 'lifecycle']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('is not closed; close it first');
    const closing = await system.cli(['close', 'lifecycle', '--close-changesets']);
    expect(closing.code).toBe(0);
    expect(closing.stdout).toContain('Closed campaign lifecycle; closing 1 changesets');
    const closed = await eventually('the pull request closed', async () => {
      const s = await status('lifecycle');
      return s.changesets[0]?.state === 'archived' && s.changesets[0].converged ? s : undefined;
    });
    expect(closed.phase).toBe('closed');
    expect(closed.closed).toMatchObject({ by: expect.any(String) });
    expect((await pulls(7, 'lifecycle'))[0]!.state).toBe('closed');
    expect((await system.cli(['close', 'lifecycle'])).stdout).toContain('was already closed');

    // A closed campaign takes no spec: preview says so, apply refuses.
    const previewed = JSON.parse(
      (await system.cli(['preview', '-f', file, '--json'])).stdout,
    ) as PreviewResult;
    expect(previewed.problems[0]?.message).toContain('campaign "lifecycle" is closed');
    const refused = await system.cli(['apply', '-f', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('campaign "lifecycle" is closed');

    // Deleted: gone from list and status, its history in the log.
    expect((await system.cli(['delete', 'lifecycle'])).code).toBe(0);
    const list = JSON.parse((await system.cli(['list', '--json'])).stdout) as {
      campaigns: { campaign: string }[];
    };
    expect(list.campaigns.map((c) => c.campaign)).not.toContain('lifecycle');
    const gone = await system.cli(['status', 'lifecycle']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('no campaign named "lifecycle"');
    const audit = await system.cli(['audit', 'lifecycle']);
    expect(audit.stdout).toContain('campaign closed by');
    expect(audit.stdout).toContain('campaign deleted by');

    // The name applied anew is a new campaign: its pull request is opened again.
    expect((await system.cli(['apply', '-f', file, '--wait', '--json'])).code).toBe(0);
    const again = await status('lifecycle');
    expect(again.phase).toBe('complete');
    expect(again.changesets.map((c) => c.state)).toEqual(['open']);
    expect((await pulls(7, 'lifecycle')).map((p) => [p.number, p.state])).toEqual([
      [pr!.number, 'open'],
    ]);
  }, 300_000);

  it('leaves a log that campaign audit --verify finds intact, with the live projections equal to it', async () => {
    const result = await system.cli(['audit', '--verify', '--json']);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      events: number;
      discrepancies: unknown[];
      projections: { name: string; equal: boolean }[];
    };
    expect(report.discrepancies).toEqual([]);
    expect(report.ok).toBe(true);
    expect(result.code).toBe(0);
    expect(report.events).toBeGreaterThan(500);
    expect(report.projections.map((p) => p.name).sort()).toEqual([
      'changesets',
      'status',
      'tracked_pull_requests',
    ]);
  }, 120_000);

  it('never lets the canary token, an access token or a NATS password reach the event store, the logs, the pull requests or an error', async () => {
    // Access tokens: the CLI's own (e2e-tester's), and one that is refused after its revocation.
    const issued = await system.cli(['admin', 'users', 'create', 'canary-user']);
    expect(issued.code).toBe(0);
    const created = await system.cli(['admin', 'tokens', 'create', 'canary-user']);
    expect(created.code).toBe(0);
    const revokedToken = created.stdout.trim();
    expect(revokedToken).toMatch(/^cmp_/);
    expect((await system.cli(['admin', 'tokens', 'revoke', 'canary-user'])).code).toBe(0);
    const refusals = [
      await system.cli(['status', 'hello-world'], { CAMPAIGN_TOKEN: revokedToken }),
      await system.cli(['apply', '-f', specFile], { CAMPAIGN_TOKEN: `${revokedToken}x` }),
      await system.cli(['list'], { CAMPAIGN_TOKEN: `Bearer ${revokedToken}` }),
    ];
    for (const refusal of refusals) {
      expect(refusal.code).toBe(4);
      expect(refusal.stderr).toMatch(/not authenticated: /);
    }
    // And the broker's passwords, which every service and CLI here connected with.
    const natsPasswords = [process.env['TEST_NATS_URL'], process.env['TEST_NATS_CLI_URL']]
      .map((url) => (url === undefined ? '' : decodeURIComponent(new URL(url).password)))
      .filter((password) => password.length >= 16);
    expect(natsPasswords).toHaveLength(2);
    const secrets = [CANARY, system.baseEnv['CAMPAIGN_TOKEN']!, revokedToken, ...natsPasswords];

    const blobs = await system.db.pool.query<{ content: Buffer }>(
      `SELECT content FROM eventstore.blobs`,
    );
    expect(blobs.rows.length).toBeGreaterThan(0);
    const tokens = await system.db.pool.query(`SELECT * FROM spec_service.access_tokens`);
    expect(tokens.rows.length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets) {
      const { rows } = await system.db.pool.query<{ hit: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM eventstore.events WHERE data::text LIKE $1 OR metadata::text LIKE $1) AS hit`,
        [`%${secret}%`],
      );
      expect(rows[0]!.hit).toBe(false);
      for (const b of blobs.rows) expect(b.content.includes(secret)).toBe(false);
      expect(JSON.stringify(tokens.rows)).not.toContain(secret);
      expect(system.allOutput()).not.toContain(secret);
      for (const refusal of refusals) expect(refusal.stderr + refusal.stdout).not.toContain(secret);
      for (let i = 1; i <= 20; i++) {
        for (const pr of await pulls(i)) {
          expect(`${pr.title}\n${pr.body}`).not.toContain(secret);
        }
      }
    }
  }, 60_000);
});
