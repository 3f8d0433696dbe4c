// M1 item 4 end to end: bulk operations over a filtered set of a campaign's changesets through
// every real part (the CLI, the four services as processes, NATS, PostgreSQL, Docker, git and
// the simulator): comment on the ones whose checks failed (and only them, once per operation
// id), merge the green ones, retry the one whose reconcile failed, close one that then stays
// closed through the next reconcile round.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BulkResultsPage, ChangesetStatus, FullCampaignStatus } from '@campaigns/contracts';
import { ensureStepImage } from './step-image.js';
import { eventually, startSystem, type RunningSystem } from './test-support/system.js';

const REPOS = [1, 2, 3, 4].map((i) => `repo-${String(i).padStart(5, '0')}`);
const COMMENT = 'The build fails here: please have a look';

function specText(
  repo: (name: string) => string,
  o: { title?: string; description?: string } = {},
) {
  return `name: bulk
description: ${o.description ?? 'Add Hello to READMEs'}
on:
${REPOS.map((name) => `  - repository: ${repo(name)}\n`).join('')}steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: ${o.title ?? 'Hello'}
  body: Bulk operations
  branch: hello-bulk
  commit:
    message: Append Hello to README.md
  published: true
`;
}

interface PullJson {
  number: number;
  state: string;
  title: string;
  merged_at: string | null;
  head: { ref: string; sha: string };
}

describe('bulk operations end to end', () => {
  let system: RunningSystem;
  let specFile: string;
  /** The comment operation's id, which another operation may not reuse. */
  let commentId: string;

  async function api<T>(path: string): Promise<T> {
    const response = await fetch(`${system.env.sim.apiUrl}${path}`, {
      headers: { authorization: `token ${system.env.sim.adminToken}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
  const pull = async (name: string) =>
    (await api<PullJson[]>(`/repos/acme/${name}/pulls?state=all`)).find(
      (p) => p.head.ref === 'hello-bulk',
    )!;
  const comments = async (name: string) =>
    api<{ body: string }[]>(`/repos/acme/${name}/issues/${(await pull(name)).number}/comments`);

  async function apply(text: string) {
    await writeFile(specFile, text);
    return system.cli(['apply', '-f', specFile, '--wait', '--json']);
  }
  async function changesets(...flags: string[]): Promise<ChangesetStatus[]> {
    const result = await system.cli(['changesets', 'bulk', ...flags, '--json']);
    if (result.code !== 0) throw new Error(`changesets exited ${result.code}: ${result.stderr}`);
    return (JSON.parse(result.stdout) as { changesets: ChangesetStatus[] }).changesets;
  }
  async function bulk(...flags: string[]): Promise<BulkResultsPage & { code: number }> {
    // A bound on the wait, so a processor that never finishes fails here, saying so.
    const result = await system.cli(['changesets', 'bulk', ...flags, '--timeout', '2m', '--json']);
    if (result.code !== 0 && result.code !== 1)
      throw new Error(`changesets exited ${result.code}: ${result.stderr}`);
    if (result.stdout === '') throw new Error(`changesets printed nothing: ${result.stderr}`);
    return { ...(JSON.parse(result.stdout) as BulkResultsPage), code: result.code };
  }
  const short = (repository: string) => repository.split('/').at(-1);
  const resultsOf = (page: BulkResultsPage) =>
    Object.fromEntries(page.results.map((r) => [short(r.repository), [r.result, r.message]]));

  beforeAll(async () => {
    await ensureStepImage();
    system = await startSystem({ repos: 4 });
    specFile = join(system.workDir, 'bulk.campaign.yaml');
    const applied = await apply(specText(system.env.repo));
    if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr}`);
  }, 600_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it('comments only on the changesets whose checks failed, once per operation id', async () => {
    // CI reports: the first two fail, the other two pass.
    for (const [i, name] of REPOS.entries()) {
      await system.env.sim.control.call('setStatus', {
        owner: 'acme',
        name,
        sha: (await pull(name)).head.sha,
        state: i < 2 ? 'failure' : 'success',
        context: 'ci/build',
      });
    }
    const failing = await eventually('the failed checks to be seen', async () => {
      const listed = await changesets('--state', 'open', '--checks', 'failed');
      return listed.length === 2 ? listed : undefined;
    });
    expect(failing.map((c) => short(c.repository))).toEqual(REPOS.slice(0, 2));

    const id = randomUUID();
    commentId = id;
    const first = await bulk(
      '--state',
      'open',
      '--checks',
      'failed',
      '--do',
      'comment',
      '-m',
      COMMENT,
      '--id',
      id,
    );
    expect(first).toMatchObject({
      code: 0,
      operationId: id,
      operation: 'comment',
      changesets: 2,
      done: 2,
      skipped: 0,
      failed: 0,
    });
    expect(Object.keys(resultsOf(first)).sort()).toEqual(REPOS.slice(0, 2));
    for (const name of REPOS.slice(0, 2))
      expect((await comments(name)).map((c) => c.body)).toEqual([COMMENT]);

    // The same id again: the same operation's results, and no second comment anywhere.
    const again = await bulk(
      '--state',
      'open',
      '--checks',
      'failed',
      '--do',
      'comment',
      '-m',
      COMMENT,
      '--id',
      id,
    );
    expect(again).toMatchObject({ code: 0, operationId: id, changesets: 2, done: 2 });
    for (const name of REPOS.slice(0, 2))
      expect((await comments(name)).map((c) => c.body)).toEqual([COMMENT]);
    // The two it was not asked about have none (seen after theirs were posted).
    for (const name of REPOS.slice(2)) expect(await comments(name)).toEqual([]);

    // The campaign's audit shows the request, who asked and each changeset's result.
    const audit = await system.cli(['audit', 'bulk']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(
      new RegExp(
        `e2e-tester\\s+bulk comment requested on 2 changesets \\(state open, checks failed\\), operation ${id}`,
      ),
    );
    for (const name of REPOS.slice(0, 2))
      expect(audit.stdout).toMatch(
        new RegExp(
          `${name}@hello-bulk: bulk operation ${id.replace(/-/g, '').slice(0, 8)} done: commented: `,
        ),
      );
  }, 300_000);

  it('refuses a wrong command line before asking anything: nothing is recorded', async () => {
    const unknown = await system.cli(['changesets', 'bulk', '--do', 'explode']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--do.*explode/);
    const noMessage = await system.cli(['changesets', 'bulk', '--do', 'comment']);
    expect(noMessage).toMatchObject({ code: 2 });
    expect(noMessage.stderr).toContain('--do comment needs the comment: -m TEXT');
    const wrongMethod = await system.cli([
      'changesets',
      'bulk',
      '--do',
      'close',
      '--method',
      'squash',
    ]);
    expect(wrongMethod.stderr).toContain('--method is for --do merge');
    const badState = await system.cli(['changesets', 'bulk', '--state', 'opened']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/--state.*opened/);
    const unknownCampaign = await system.cli(['changesets', 'nope', '--do', 'close']);
    expect(unknownCampaign.code).toBe(1);
    expect(unknownCampaign.stderr).toContain('no campaign named "nope"');
    const reused = await system.cli(['changesets', 'bulk', '--do', 'close', '--id', commentId]);
    expect(reused.code).toBe(1);
    expect(reused.stderr).toContain(
      `operation id ${commentId} was already used for comment on campaign "bulk"; use a new id`,
    );
    const { rows } = await system.db.pool.query(
      `SELECT count(*)::int AS n FROM eventstore.events WHERE type = 'BulkOperationRequested'`,
    );
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('merges the green changesets with the method asked, and prints a table of results', async () => {
    const result = await system.cli([
      'changesets',
      'bulk',
      '--checks',
      'passed',
      '--do',
      'merge',
      '--method',
      'squash',
      '--timeout',
      '2m',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^merge on 2 changesets of bulk \(operation [0-9a-f-]{36}\): 2 done, 0 skipped, 0 failed\n/,
    );
    expect(result.stdout).toMatch(/REPOSITORY\s+PR\s+RESULT\s+MESSAGE/);
    for (const name of REPOS.slice(2)) {
      expect(result.stdout).toMatch(new RegExp(`${name}\\s+#\\d+\\s+done\\s+merged \\(squash\\)`));
      expect((await pull(name)).merged_at).not.toBeNull();
    }
    for (const name of REPOS.slice(0, 2)) expect((await pull(name)).state).toBe('open');
    await eventually('the merges to be seen', async () => {
      const merged = await changesets('--state', 'merged');
      return merged.length === 2 ? merged : undefined;
    });
  }, 300_000);

  it('retries a changeset whose reconcile failed terminally, once the cause is gone', async () => {
    // The second repository is archived: updating its pull request's title fails terminally.
    await system.env.sim.control.call('archiveRepo', {
      owner: 'acme',
      name: REPOS[1]!,
      archived: true,
    });
    const failed = await apply(specText(system.env.repo, { title: 'Hello again' }));
    expect(failed.code).toBe(3);
    const errored = await changesets();
    expect(errored.find((c) => short(c.repository) === REPOS[1])).toMatchObject({
      errorTerminal: true,
    });
    await system.env.sim.control.call('archiveRepo', {
      owner: 'acme',
      name: REPOS[1]!,
      archived: false,
    });

    const retried = await bulk('--do', 'retry');
    expect(retried).toMatchObject({ code: 0, changesets: 4, done: 1, skipped: 3 });
    expect(resultsOf(retried)[REPOS[1]!]).toEqual([
      'done',
      'the reconciler tries again with the same desired state',
    ]);
    expect(resultsOf(retried)[REPOS[0]!]).toEqual(['skipped', 'its last reconcile did not fail']);
    const healed = await system.cli(['status', 'bulk', '--wait', '--timeout', '2m', '--json']);
    expect(healed.code).toBe(0);
    expect((await pull(REPOS[1]!)).title).toBe('Hello again');
  }, 300_000);

  it('closes a changeset, which a reconcile round of unchanged content leaves closed and a changed spec reopens', async () => {
    const closed = await bulk('--repo', `**/${REPOS[0]}`, '--do', 'close');
    expect(closed).toMatchObject({ code: 0, changesets: 1, done: 1 });
    expect((await pull(REPOS[0]!)).state).toBe('closed');
    // Closing again is a skip, not a second close.
    const again = await bulk('--repo', `**/${REPOS[0]}`, '--do', 'close');
    expect(resultsOf(again)[REPOS[0]!]).toEqual(['skipped', 'already closed']);

    // Its base branch moves on (a file it does not touch), and the spec is applied again: its
    // desired state is new (another base revision) but its content is not (same diff, title,
    // body, commit), so it gets a reconcile round, and that round leaves it closed.
    await system.env.sim.control.call('pushCommit', {
      owner: 'acme',
      name: REPOS[0]!,
      branch: 'main',
      files: { 'OTHER.md': 'unrelated\n' },
      message: 'Move main on',
    });
    const reapplied = await apply(
      specText(system.env.repo, { title: 'Hello again', description: 'Add Hello, again' }),
    );
    expect(reapplied.code).toBe(0);
    const final = (JSON.parse(reapplied.stdout) as { status: FullCampaignStatus }).status;
    expect(final.phase).toBe('complete');
    expect(final.changesets.find((c) => short(c.repository) === REPOS[0])?.state).toBe('closed');
    expect((await pull(REPOS[0]!)).state).toBe('closed');
    expect((await pull(REPOS[1]!)).state).toBe('open');
    // It had its round: reconciled after the close, with nothing reopened.
    const { rows } = await system.db.pool.query<{ type: string; data: { operations?: string[] } }>(
      `SELECT type, data FROM eventstore.events
        WHERE stream_id = (SELECT stream_id FROM eventstore.events
                            WHERE type = 'ChangesetClosed' AND data ? 'bulkOperationId')
        ORDER BY stream_version`,
    );
    const afterClose = rows.slice(rows.findIndex((e) => e.type === 'ChangesetClosed') + 1);
    expect(afterClose.filter((e) => e.type === 'ChangesetReconciled')).toEqual([
      { type: 'ChangesetReconciled', data: expect.objectContaining({ operations: ['archive'] }) },
    ]);
    expect(afterClose.map((e) => e.type)).not.toContain('ChangesetUpdated');

    // A spec that changes it (its title) reopens it: the spec stays the source of truth.
    const changed = await apply(
      specText(system.env.repo, { title: 'Hello, reopened', description: 'Add Hello, again' }),
    );
    expect(changed.code).toBe(0);
    expect(await pull(REPOS[0]!)).toMatchObject({ state: 'open', title: 'Hello, reopened' });
  }, 300_000);
});
