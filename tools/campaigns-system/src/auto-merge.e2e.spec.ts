// M1 item 2 end to end: a campaign with x-campaigns.autoMerge through every real part (the CLI,
// the four services as processes, NATS, PostgreSQL, Docker, git and the simulator). Checks and
// reviews are posted to the simulator's control API; its webhooks reach the gateway, whose
// observations make a changeset due once it may be merged.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChangesetStatus, FullCampaignStatus } from '@campaigns/contracts';
import pg from 'pg';
import { ensureStepImage } from './step-image.js';
import {
  eventually,
  startSystem,
  storedEvents,
  type RunningSystem,
} from './test-support/system.js';

const REPOS = ['repo-00001', 'repo-00002', 'repo-00003'];

function specText(
  repo: (name: string) => string,
  published = 'true',
  description = 'Append Hello to READMEs and merge once green and approved',
): string {
  return `name: auto-merge
description: ${description}
on:
${REPOS.map((name) => `  - repository: ${repo(name)}\n`).join('')}steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello World
  body: Merged when green
  branch: auto-merge
  commit:
    message: Append Hello to README.md
  published: ${published}
x-campaigns:
  autoMerge:
    method: squash
`;
}

interface PullJson {
  number: number;
  state: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  title: string;
  head: { ref: string; sha: string };
  base: { ref: string };
}

describe('auto-merge end to end', () => {
  let system: RunningSystem;
  let specFile: string;
  let pool: pg.Pool;

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${system.env.sim.apiUrl}${path}`, {
      headers: { authorization: `token ${system.env.sim.adminToken}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
  const pull = async (name: string): Promise<PullJson> => {
    const [pr, ...others] = await api<PullJson[]>(`/repos/acme/${name}/pulls?state=all`);
    expect(others).toEqual([]);
    return pr!;
  };
  const ref = (name: string, pr: PullJson) => ({ owner: 'acme', name, number: pr.number });
  const control = () => system.env.sim.control;

  async function status(): Promise<Map<string, ChangesetStatus>> {
    const result = await system.cli(['status', 'auto-merge', '--json']);
    if (result.code !== 0) throw new Error(`status exited ${result.code}: ${result.stderr}`);
    const s = JSON.parse(result.stdout) as FullCampaignStatus;
    return new Map(s.changesets.map((c) => [c.repository, c]));
  }
  const statusOf = async (name: string) => (await status()).get(system.env.repo(name));

  /** A completed check run on the pull request's head. */
  async function check(name: string, pr: PullJson, conclusion: 'success' | 'failure') {
    await control().call('createCheckRun', {
      owner: 'acme',
      name,
      headSha: pr.head.sha,
      checkName: 'ci',
      status: 'completed',
      conclusion,
    });
  }

  /** The reconciler's merge attempts the code host refused, for one repository. */
  async function refusedMerges(name: string): Promise<number> {
    const events = await storedEvents(pool);
    return events.filter(
      (e) =>
        e.type === 'ReconcileFailed' &&
        e.data['operation'] === 'merge' &&
        e.data['repository'] === system.env.repo(name),
    ).length;
  }

  beforeAll(async () => {
    await ensureStepImage();
    // Every apply reads the repositories afresh: the last test applies again after main moved.
    system = await startSystem({ repos: 4, serviceEnv: { REPOSITORY_INDEX_MAX_AGE_MS: '0' } });
    specFile = join(system.workDir, 'auto-merge.campaign.yaml');
    pool = new pg.Pool({ connectionString: system.db.url, max: 2 });
  }, 180_000);
  afterAll(async () => {
    await pool?.end();
    await system?.stop();
  }, 60_000);

  it('refuses auto-merge of changesets published only as drafts, at its line and column, recording nothing', async () => {
    await writeFile(specFile, specText(system.env.repo, 'draft'));
    const result = await system.cli(['apply', '-f', specFile]);
    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).toContain(
      'auto-merge.campaign.yaml:19:5: x-campaigns.autoMerge needs changesets published ready for review',
    );
    const recorded = await storedEvents(pool);
    expect(recorded.filter((e) => e.data['campaign'] === 'auto-merge')).toEqual([]);
  }, 120_000);

  it('opens the pull requests and merges none while no check has reported and no one approved', async () => {
    await writeFile(specFile, specText(system.env.repo));
    const result = await system.cli(['apply', '-f', specFile, '--wait', '--json']);
    if (result.code !== 0) throw new Error(`apply exited ${result.code}\n${result.stderr}`);
    const applied = (JSON.parse(result.stdout) as { status: FullCampaignStatus }).status;
    expect(applied.phase).toBe('complete');
    expect(applied.changesets.map((c) => c.state)).toEqual(['open', 'open', 'open']);
    for (const name of REPOS) expect(await pull(name)).toMatchObject({ state: 'open' });
  }, 600_000);

  it('merges a pull request (squashed) once its check passed and it was approved, and shows it merged', async () => {
    const name = REPOS[0]!;
    const pr = await pull(name);
    await check(name, pr, 'success');
    // Green but not approved: the observation of the check is the positive signal; no merge.
    await eventually('status to show the check passed', async () =>
      (await statusOf(name))?.checks === 'SUCCESS' ? true : undefined,
    );
    expect((await pull(name)).state).toBe('open');

    await control().call('submitReview', { ...ref(name, pr), event: 'APPROVE' });
    const merged = await eventually('the pull request to be merged', async () => {
      const now = await pull(name);
      return now.merged_at === null ? undefined : now;
    });
    const commit = await api<{ parents: unknown[]; commit: { message: string } }>(
      `/repos/acme/${name}/commits/${merged.merge_commit_sha}`,
    );
    expect(commit.parents).toHaveLength(1);
    expect(commit.commit.message).toMatch(new RegExp(`^Hello World \\(#${pr.number}\\)`));
    await eventually('status to show it merged', async () => {
      const s = await statusOf(name);
      return s?.state === 'merged' && s.lastError === null ? true : undefined;
    });
  }, 120_000);

  it('does not merge an approved pull request whose check fails, and shows the failing check', async () => {
    const name = REPOS[1]!;
    const pr = await pull(name);
    await control().call('submitReview', { ...ref(name, pr), event: 'APPROVE' });
    await check(name, pr, 'failure');
    const shown = await eventually(
      'status to show the failing check and the approval',
      async () => {
        const s = await statusOf(name);
        return s?.checks === 'FAILURE' && s.review === 'APPROVED' ? s : undefined;
      },
    );
    expect(shown).toMatchObject({ state: 'open', lastError: null });
    expect(await pull(name)).toMatchObject({ state: 'open', merged_at: null });
  }, 120_000);

  it('does not merge a pull request whose checks pass once a review requests changes, and shows the review', async () => {
    const name = REPOS[1]!;
    const pr = await pull(name);
    await control().call('submitReview', {
      ...ref(name, pr),
      event: 'REQUEST_CHANGES',
      body: 'Not this way',
    });
    await check(name, pr, 'success');
    const shown = await eventually('status to show the passing checks and the review', async () => {
      const s = await statusOf(name);
      return s?.checks === 'SUCCESS' && s.review === 'CHANGES_REQUESTED' ? s : undefined;
    });
    expect(shown).toMatchObject({ state: 'open', lastError: null });
    expect(await pull(name)).toMatchObject({ state: 'open', merged_at: null });
  }, 120_000);

  it('shows the refusal of a pull request whose base moved so that it conflicts, and does not try again until something changes', async () => {
    const name = REPOS[2]!;
    const pr = await pull(name);
    // main's README.md is rewritten: the pull request's appended line no longer applies.
    await control().call('pushCommit', {
      owner: 'acme',
      name,
      branch: pr.base.ref,
      files: { 'README.md': 'Rewritten on main\n' },
      message: 'Rewrite the README',
    });
    await control().call('submitReview', { ...ref(name, pr), event: 'APPROVE' });
    await check(name, pr, 'success');
    const refused = await eventually('status to show the refused merge', async () => {
      const s = await statusOf(name);
      return s?.lastError?.includes('not mergeable') ? s : undefined;
    });
    expect(refused.lastError).toContain(
      'auto-merge tries again when the head, checks or review change',
    );
    expect(refused.state).toBe('open');
    expect(await refusedMerges(name)).toBe(1);

    // Someone edits the title: an observation that changes none of head, checks or review.
    await control().call('updatePullRequest', { ...ref(name, pr), title: 'Hello World (edited)' });
    await eventually('the reconciler to record the edited title', async () => {
      const events = await storedEvents(pool);
      return events.some(
        (e) => e.type === 'ChangesetObserved' && e.data['title'] === 'Hello World (edited)',
      )
        ? true
        : undefined;
    });
    // The reconciler's projection has applied it, and the changeset is not due: no blind retry.
    await eventually('the reconciler to project the edited title', async () => {
      const { rows } = await pool.query<{ title: string }>(
        'SELECT title FROM reconciler_service.changesets WHERE repository = $1',
        [system.env.repo(name)],
      );
      return rows[0]?.title === 'Hello World (edited)' ? true : undefined;
    });
    const { rows: due } = await pool.query(
      `SELECT q.changeset_id FROM reconciler_service.reconcile_queue q
         JOIN reconciler_service.changesets c USING (changeset_id) WHERE c.repository = $1`,
      [system.env.repo(name)],
    );
    expect(due).toEqual([]);
    expect(await refusedMerges(name)).toBe(1);
    expect(await pull(name)).toMatchObject({ state: 'open', merged_at: null });
  }, 120_000);
  it('merges the conflicting pull request once a changed spec is applied on the moved base and its new head passes', async () => {
    const name = REPOS[2]!;
    const before = await pull(name);
    // The same spec again would be a no-op (unchanged); a new description makes a new apply.
    await writeFile(specFile, specText(system.env.repo, 'true', 'Hello again, on the new main'));
    const result = await system.cli(['apply', '-f', specFile, '--wait', '--json']);
    if (result.code !== 0) throw new Error(`apply exited ${result.code}\n${result.stderr}`);
    // The steps ran on the rewritten main: a new head, which nothing has checked yet.
    const rebuilt = await eventually('the pull request to get a new head', async () => {
      const now = await pull(name);
      return now.head.sha !== before.head.sha ? now : undefined;
    });
    expect(rebuilt).toMatchObject({ state: 'open', merged_at: null });
    await check(name, rebuilt, 'success');
    const merged = await eventually('the pull request to be merged', async () => {
      const now = await pull(name);
      return now.merged_at === null ? undefined : now;
    });
    expect(merged.head.sha).toBe(rebuilt.head.sha);
    expect(await refusedMerges(name)).toBe(1);
    await eventually('status to show it merged, its refusal gone', async () => {
      const s = await statusOf(name);
      return s?.state === 'merged' && s.lastError === null ? true : undefined;
    });
    // The failing one is still open: applying again did not merge it.
    expect(await pull(REPOS[1]!)).toMatchObject({ state: 'open', merged_at: null });
  }, 600_000);
  it("with native: true, turns on GitHub's auto-merge while the check runs, and GitHub merges it once the check passes", async () => {
    const name = 'repo-00004';
    const file = join(system.workDir, 'native.campaign.yaml');
    await writeFile(
      file,
      `name: auto-merge-native
description: Merged by GitHub's own auto-merge
on:
  - repository: ${system.env.repo(name)}
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: Hello natively
  body: Merged by the host
  branch: auto-merge-native
  commit:
    message: Append Hello to README.md
  published: true
x-campaigns:
  autoMerge:
    method: rebase
    native: true
`,
    );
    const result = await system.cli(['apply', '-f', file, '--wait', '--json']);
    if (result.code !== 0) throw new Error(`apply exited ${result.code}\n${result.stderr}`);
    const pr = await pull(name);
    await control().call('submitReview', { ...ref(name, pr), event: 'APPROVE' });
    const run = await control().call('createCheckRun', {
      owner: 'acme',
      name,
      headSha: pr.head.sha,
      checkName: 'ci',
      status: 'in_progress',
    });
    const enabled = await eventually("GitHub's auto-merge to be turned on", async () => {
      const now = await control().call('getPullRequest', ref(name, pr));
      return now.auto_merge === null ? undefined : now.auto_merge;
    });
    expect(enabled).toMatchObject({ merge_method: 'rebase' });
    expect((await pull(name)).merged_at).toBeNull();

    await control().call('updateCheckRun', {
      owner: 'acme',
      name,
      id: run.id,
      status: 'completed',
      conclusion: 'success',
    });
    expect((await pull(name)).merged_at).not.toBeNull();
    const s = await eventually('status to show it merged', async () => {
      const result = await system.cli(['status', 'auto-merge-native', '--json']);
      const status = JSON.parse(result.stdout) as FullCampaignStatus;
      return status.changesets[0]?.state === 'merged' ? status : undefined;
    });
    expect(s.changesets[0]!.lastError).toBeNull();
  }, 600_000);
});
