// A1's end-to-end scenario: `campaign audit` replays the event log of a real system (the four
// services, the simulator, the CLI) into a history, a past state and a verification anyone can run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FullCampaignStatus } from '@campaigns/contracts';
import pg from 'pg';
import { ensureStepImage } from './step-image.js';
import { eventually, startSystem, type RunningSystem } from './test-support/system.js';

const NAME = 'audited';
/** The built CLI, run as system.cli runs it. */
const cliBin = fileURLToPath(new URL('../../../apps/cli/dist/main.js', import.meta.url));

function specText(title: string): string {
  return `name: ${NAME}
description: Append Hello to READMEs, audited
on:
  - repositoriesMatchingQuery: file:README.md
steps:
  - run: echo Hello | tee -a $(find -name '*.md')
    container: alpine:3
changesetTemplate:
  title: ${title}
  body: Audit me.
  branch: audited
  commit:
    message: Append Hello to .md files
  published: true
`;
}

interface JsonLine {
  global_position: number;
  recorded_at: string;
  stream: string;
  version: number;
  type: string;
  event_id: string;
  data: Record<string, unknown>;
  metadata: { correlation_id: string; causation_id: string | null; actor: string; source: string };
  hash: string;
}

/** What `campaign status` shows of a campaign, without the times that say when it was read. */
function shown(s: FullCampaignStatus) {
  return {
    campaign: s.campaign,
    applyId: s.applyId,
    specHash: s.specHash,
    appliedAt: s.appliedAt,
    actor: s.actor,
    phase: s.phase,
    counts: s.counts,
    executions: s.executions,
    problems: s.problems,
    changesets: s.changesets.map((c) => ({
      repository: c.repository,
      headBranch: c.headBranch,
      state: c.state,
      draft: c.draft,
      url: c.url,
      number: c.number,
      lastError: c.lastError,
      converged: c.converged,
    })),
  };
}

describe('campaign audit end to end', () => {
  let system: RunningSystem;
  let specFile: string;
  let first: FullCampaignStatus;
  let second: FullCampaignStatus;
  let at: Date;

  async function applyAndWait(text: string): Promise<FullCampaignStatus> {
    await writeFile(specFile, text);
    const result = await system.cli(['apply', '-f', specFile, '--wait', '--json']);
    if (result.code !== 0)
      throw new Error(`apply exited ${result.code}\n${result.stdout}\n${result.stderr}`);
    return (JSON.parse(result.stdout) as { status: FullCampaignStatus }).status;
  }
  async function status(): Promise<FullCampaignStatus> {
    const result = await system.cli(['status', NAME, '--json']);
    if (result.code !== 0) throw new Error(`status exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as FullCampaignStatus;
  }
  const short = (applyId: string) => applyId.slice(0, 8);

  beforeAll(async () => {
    await ensureStepImage();
    system = await startSystem({ repos: 3 });
    specFile = join(system.workDir, `${NAME}.campaign.yaml`);
    expect((await applyAndWait(specText('Hello from the audit'))).phase).toBe('complete');
    first = await status();
    at = new Date();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    second = await applyAndWait(specText('Hello again from the audit'));
    expect(second.phase).toBe('complete');
  }, 600_000);
  afterAll(async () => {
    await system?.stop();
  }, 60_000);

  it('shows both applies with their diff, the executions and the pull request operations, each tied to its apply', async () => {
    expect(first.changesets).toHaveLength(3);
    const result = await system.cli(['audit', NAME]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const applies = lines.filter((l) => l.includes('spec applied by e2e-tester'));
    expect(applies).toHaveLength(2);
    expect(applies[0]).toContain(`  ${short(first.applyId)}  e2e-tester  `);
    expect(applies[1]).toContain(`  ${short(second.applyId)}  e2e-tester  `);
    // The first apply shows its whole spec as added, the second only the title changed.
    expect(result.stdout).toContain('    +  title: Hello from the audit\n');
    const secondDiff = result.stdout.slice(result.stdout.indexOf(applies[1]!));
    expect(secondDiff).toContain(
      '    -  title: Hello from the audit\n    +  title: Hello again from the audit\n',
    );
    expect(secondDiff.match(/^ {4}[-+](?![-+])/gm)).toHaveLength(2);

    for (const c of first.changesets) {
      const repo = c.repository;
      const of = (what: string) => lines.filter((l) => l.includes(repo) && l.includes(what));
      // Two executions (one per apply), each with its patch.
      expect(of(': patch computed, 1 file changed')).toHaveLength(2);
      const published = of(`published PR #${c.number} ${c.url}`);
      expect(published).toHaveLength(1);
      expect(published[0]).toContain(`  ${short(first.applyId)}  e2e-tester  `);
      const updated = of(`: update PR #${c.number}: title "Hello again from the audit"`);
      expect(updated).toHaveLength(1);
      expect(updated[0]).toContain(`  ${short(second.applyId)}  e2e-tester  `);
      expect(of('reconciled (').length).toBeGreaterThanOrEqual(2);
    }
  }, 60_000);

  it('filters to one changeset, keeping the applies', async () => {
    const repo = first.changesets[0]!.repository;
    const result = await system.cli(['audit', NAME, '--changeset', `${repo}@audited`]);
    expect(result.code).toBe(0);
    const events = result.stdout.split('\n').filter((l) => /^\d{4}-/.test(l));
    expect(events.filter((l) => l.includes('spec applied'))).toHaveLength(2);
    expect(events.length).toBeGreaterThan(4);
    for (const l of events.filter((x) => !x.includes('spec applied'))) expect(l).toContain(repo);
    // From T on: only the second apply, still diffed against the first.
    const since = await system.cli(['audit', NAME, '--since', at.toISOString()]);
    expect(since.code).toBe(0);
    expect(since.stdout.match(/spec applied by/g)).toHaveLength(1);
    expect(since.stdout).toContain('    --- previous spec\n    +++ ' + specFile + '\n');
    expect(since.stdout).toContain('    +  title: Hello again from the audit\n');
    expect(since.stdout).not.toContain('/dev/null');
    const other = await system.cli(['audit', NAME, '--changeset', `${repo}@another-branch`]);
    expect(other.stdout).not.toContain('published PR');
  }, 60_000);

  it('stops quietly, exit 0, when whoever reads its JSON Lines has stopped (| head -1: EPIPE)', async () => {
    const child = spawn(process.execPath, [cliBin, 'audit', NAME, '--json'], {
      cwd: system.workDir,
      env: { PATH: process.env.PATH ?? '', ...system.baseEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reading end is closed before the CLI has read the log: every write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('writes every event of the campaign as JSON Lines, as stored', async () => {
    const result = await system.cli(['audit', NAME, '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as JsonLine);
    const { rows } = await system.db.pool.query<{ event_id: string; hash: string }>(
      `SELECT event_id, hash FROM eventstore.events WHERE data->>'campaign' = $1
        ORDER BY transaction_id, global_position`,
      [NAME],
    );
    expect(events.map((e) => [e.event_id, e.hash])).toEqual(rows.map((r) => [r.event_id, r.hash]));
    for (const e of events) {
      expect(e).toMatchObject({
        global_position: expect.any(Number),
        stream: expect.stringMatching(/^(campaign|execution|changeset)-/),
        version: expect.any(Number),
        type: expect.any(String),
        data: expect.objectContaining({ campaign: NAME }),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(new Date(e.recorded_at).toISOString()).toBe(e.recorded_at);
      // Observations carry the webhook delivery (or sync) that saw them; the rest, their apply.
      if (e.type !== 'ChangesetObserved')
        expect([first.applyId, second.applyId]).toContain(e.metadata.correlation_id);
    }
    const since = await system.cli(['audit', NAME, '--json', '--since', at.toISOString()]);
    const after = since.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonLine);
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThan(events.length);
    for (const e of after) expect(new Date(e.recorded_at) >= at).toBe(true);
  }, 60_000);

  it('rebuilds the status as it was at a moment from the log', async () => {
    const result = await system.cli(['audit', NAME, '--at', at.toISOString(), '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const replayed = JSON.parse(result.stdout) as FullCampaignStatus;
    expect(shown(replayed)).toEqual(shown(first));
    // Now is the second apply, with the same pull requests.
    const now = await system.cli(['audit', NAME, '--at', new Date().toISOString(), '--json']);
    expect(shown(JSON.parse(now.stdout) as FullCampaignStatus)).toEqual(shown(await status()));
    const table = await system.cli(['audit', NAME, '--at', at.toISOString()]);
    expect(table.stdout).toContain(`Campaign ${NAME}: complete`);
    expect(table.stdout).toContain(first.changesets[0]!.url!);
    const before = await system.cli(['audit', NAME, '--at', '2000-01-01']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('had not been applied by 2000-01-01T00:00:00.000Z');
  }, 60_000);

  it('refuses an unknown campaign and a bad timestamp', async () => {
    const unknown = await system.cli(['audit', 'no-such-campaign']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no campaign "no-such-campaign"');
    const bad = await system.cli(['audit', NAME, '--since', 'last tuesday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since needs an ISO 8601 timestamp');
  }, 60_000);

  it('works as a role that can only read, given by AUDIT_DATABASE_URL', async () => {
    const role = `campaigns_audit_${randomBytes(4).toString('hex')}`;
    const admin = system.db.pool;
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'audit-e2e'`);
    try {
      await admin.query(`GRANT pg_read_all_data TO ${role}`);
      await admin.query(`GRANT TEMPORARY ON DATABASE ${system.db.name} TO ${role}`);
      const url = new URL(system.db.url);
      url.username = role;
      url.password = 'audit-e2e';
      // DATABASE_URL (the writer) stays set: AUDIT_DATABASE_URL wins.
      const env = { AUDIT_DATABASE_URL: url.toString() };
      const history = await system.cli(['audit', NAME], env);
      expect(history.stderr).toBe('');
      expect(history.stdout.match(/spec applied by e2e-tester/g)).toHaveLength(2);
      const then = await system.cli(['audit', NAME, '--at', at.toISOString(), '--json'], env);
      expect(then.stderr).toBe('');
      expect(shown(JSON.parse(then.stdout) as FullCampaignStatus)).toEqual(shown(first));
      const verified = await system.cli(['audit', '--verify'], env);
      expect(verified.stdout).toContain('OK: no discrepancies');
      expect(verified.code).toBe(0);
      // It is the database audit reads: a wrong one fails, whatever DATABASE_URL says.
      const elsewhere = new URL(url);
      elsewhere.pathname = '/no_such_database_for_audit';
      const wrong = await system.cli(['audit', NAME], {
        AUDIT_DATABASE_URL: elsewhere.toString(),
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('reading the event store failed');
      // The role really can only read.
      const reader = new pg.Client({ connectionString: url.toString() });
      await reader.connect();
      try {
        await expect(reader.query(`DELETE FROM eventstore.events`)).rejects.toThrow(
          /permission denied/,
        );
      } finally {
        await reader.end();
      }
    } finally {
      await admin.query(`REVOKE ALL ON DATABASE ${system.db.name} FROM ${role}`);
      await admin.query(`DROP OWNED BY ${role}`);
      await admin.query(`DROP ROLE ${role}`);
    }
  }, 120_000);

  it('counts an execution whose rendering changed nothing as rendered', async () => {
    // A description-only change: new executions (cached), the same desired state, so the
    // process manager records no ChangesetSpecComputed after their PatchComputed.
    const third = await applyAndWait(
      specText('Hello again from the audit').replace(', audited', ', audited again'),
    );
    expect(third.phase).toBe('complete');
    const { rows } = await system.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM eventstore.events
        WHERE type = 'ChangesetSpecComputed' AND metadata->>'correlation_id' = $1`,
      [third.applyId],
    );
    expect(rows[0]!.n).toBe(0);
    const now = await system.cli(['audit', NAME, '--at', new Date().toISOString(), '--json']);
    const replayed = JSON.parse(now.stdout) as FullCampaignStatus;
    expect(replayed.applyId).toBe(third.applyId);
    expect(replayed.counts.executed).toBe(3);
    expect(shown(replayed)).toEqual(shown(await status()));
  }, 300_000);

  it('verifies the untouched log, and names an event whose payload was changed', async () => {
    const clean = await system.cli(['audit', '--verify']);
    expect(clean.stderr).toBe('');
    expect(clean.stdout).toContain('OK: no discrepancies');
    expect(clean.code).toBe(0);

    const { rows } = await system.db.pool.query<{ event_id: string }>(
      `SELECT event_id FROM eventstore.events
        WHERE type = 'ChangesetPublished' AND data->>'campaign' = $1 LIMIT 1`,
      [NAME],
    );
    const victim = rows[0]!.event_id;
    // As a superuser: the table is append-only by trigger, which replication mode skips.
    const client = await system.db.pool.connect();
    try {
      await client.query(`SET session_replication_role = replica`);
      await client.query(
        `UPDATE eventstore.events SET data = jsonb_set(data, '{title}', '"Tampered"')
          WHERE event_id = $1`,
        [victim],
      );
      await client.query(`RESET session_replication_role`);
    } finally {
      client.release(true);
    }

    const tampered = await system.cli(['audit', '--verify']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('FAILED');
    expect(tampered.stdout).toMatch(new RegExp(`hash-mismatch.*${victim}`));
    const json = await system.cli(['audit', '--verify', '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      discrepancies: { kind: string; eventId?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.discrepancies).toContainEqual(
      expect.objectContaining({ kind: 'hash-mismatch', eventId: victim }),
    );
  }, 120_000);

  it('burndown: counts by state over time, its last point what campaign status shows, after a merge and a close on the code host', async () => {
    const [toMerge, toClose] = (await status()).changesets;
    const ownerAndName = (repository: string) => {
      const [, owner, name] = repository.split('/');
      return { owner: owner!, name: name! };
    };
    await system.env.sim.control.call('mergePullRequest', {
      ...ownerAndName(toMerge!.repository),
      number: toMerge!.number!,
    });
    await system.env.sim.control.call('closePullRequest', {
      ...ownerAndName(toClose!.repository),
      number: toClose!.number!,
    });
    const live = await eventually('status to show the merge and the close', async () => {
      const s = await status();
      const state = (repository: string) =>
        s.changesets.find((c) => c.repository === repository)?.state;
      return state(toMerge!.repository) === 'merged' && state(toClose!.repository) === 'closed'
        ? s
        : undefined;
    });

    const result = await system.cli(['burndown', NAME, '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const burndown = JSON.parse(result.stdout) as {
      campaign: string;
      points: { at: string; counts: Record<string, number> }[];
    };
    expect(burndown.campaign).toBe(NAME);
    const last = burndown.points.at(-1)!.counts;
    const byState: Record<string, number> = {};
    for (const c of live.changesets) byState[c.state] = (byState[c.state] ?? 0) + 1;
    for (const [state, n] of Object.entries(last))
      if (state !== 'total') expect([state, n]).toEqual([state, byState[state] ?? 0]);
    expect(last).toMatchObject({ open: 1, merged: 1, closed: 1, total: live.counts.changesets });
    expect(live.counts).toMatchObject({ open: 1, merged: 1, closed: 1 });

    // Every change: from nothing, through three open, to one merged and one closed.
    const changes = await system.cli(['burndown', NAME, '--every-change', '-o', 'json']);
    const points = (JSON.parse(changes.stdout) as typeof burndown).points;
    expect(points[0]!.counts.total).toBe(0);
    expect(points.some((p) => p.counts.open === 3)).toBe(true);
    expect(points.at(-1)!.counts).toEqual(last);
    const table = await system.cli(['burndown', NAME]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME +.*OPEN +.*CLOSED +MERGED +TOTAL$/);
  }, 120_000);
});
