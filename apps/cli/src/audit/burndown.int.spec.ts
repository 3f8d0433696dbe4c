import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { CHANGESET_STATES } from '@campaigns/contracts';
import {
  campaignsCatalogue,
  campaignStream,
  changesetId,
  changesetStream,
  importedChangesetId,
  PostgresEventStore,
} from '@campaigns/events';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { runCli } from '../cli.js';
import type { BurndownCounts } from '@campaigns/audit';
import { campaignStatusAt } from './status-at.js';

const NAME = 'burndown-int';
const APPLY = randomUUID();
const EXECUTION = 'e'.repeat(32);
const metadata = { correlation_id: APPLY, causation_id: null, actor: 'alice', source: 'test' };
const repo = (r: string) => `github.com/acme/${r}`;
const id = (r: string) => changesetId(NAME, repo(r), 'hello');
const IMPORTED = importedChangesetId(NAME, repo('imp'), 7);

interface BurndownJson {
  campaign: string;
  points: { at: string; counts: BurndownCounts }[];
}

/**
 * A campaign's log appended through the real event store, step by step (each a moment T1…T6):
 * then `campaign burndown` read from PostgreSQL counts at each moment what the status projection,
 * replayed from the same log up to it (`campaign audit --at`), shows.
 */
describe('campaign burndown over a real event log (PostgreSQL)', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  const moments: Date[] = [];
  let deleted: Date;
  let reapplied: Date;
  /**
   * The database's clock rounded up to the next millisecond: --until takes milliseconds, and an
   * event recorded earlier in the same millisecond (microseconds later than a truncated time)
   * must fall before it.
   */
  const afterNow = async () =>
    (
      await db.pool.query<{ t: Date }>(
        "SELECT date_trunc('milliseconds', clock_timestamp()) + interval '1 millisecond' AS t",
      )
    ).rows[0]!.t;

  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: { DATABASE_URL: db.url },
    });
    return { code, stdout, stderr };
  }

  async function burndown(...argv: string[]): Promise<BurndownJson> {
    const r = await run('burndown', NAME, '-o', 'json', ...argv);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(r.stdout) as BurndownJson;
  }

  /** The changeset streams' events of one step, then the moment after they are all recorded. */
  async function step(events: [string, string, Record<string, unknown>][]): Promise<void> {
    for (const [changeset, type, data] of events) {
      const identity =
        changeset === IMPORTED
          ? { changesetId: IMPORTED, campaign: NAME, repository: repo('imp'), headBranch: '#7' }
          : {
              changesetId: changeset,
              campaign: NAME,
              repository: repo(Object.keys(IDS).find((k) => IDS[k] === changeset)!),
              headBranch: 'hello',
            };
      await store.append(changesetStream(changeset), [{ type, data: { ...identity, ...data } }], {
        expected: 'any',
        metadata,
      });
    }
    const moment = await afterNow();
    moments.push(moment);
    // The next step is recorded in a later millisecond than this moment.
    while ((await afterNow()).getTime() <= moment.getTime() + 1) await sleep(1);
  }

  const IDS: Record<string, string> = { a: id('a'), b: id('b'), c: id('c'), d: id('d') };
  const spec = (published: boolean) => ({
    applyId: APPLY,
    executionId: EXECUTION,
    path: '',
    spec: {
      baseRef: 'main',
      baseRevision: '1'.repeat(40),
      title: 'Hello',
      body: 'Hello',
      commit: { message: 'Hello', author: { name: 'a', email: 'a@example.com' } },
      published,
      diff: { sha256: '2'.repeat(64), size: 10 },
      files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
    },
  });
  const specEventId = randomUUID();
  const pr = (number: number) => ({
    specEventId,
    number,
    url: `https://github.com/acme/pr/${number}`,
  });

  beforeAll(async () => {
    db = await createTestDatabase('cli_burndown');
    store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    // T1: applied.
    await store.append(
      campaignStream(NAME),
      [
        {
          type: 'SpecApplied',
          data: {
            campaign: NAME,
            applyId: APPLY,
            specHash: '3'.repeat(64),
            specText: `name: ${NAME}`,
            fileName: 'b.yaml',
            actor: 'alice',
          },
        },
      ],
      { expected: 'no_stream', metadata },
    );
    await step([]);
    // T2: four changesets computed, d kept local.
    await step([
      [IDS.a!, 'ChangesetSpecComputed', spec(true)],
      [IDS.b!, 'ChangesetSpecComputed', spec(true)],
      [IDS.c!, 'ChangesetSpecComputed', spec(true)],
      [IDS.d!, 'ChangesetSpecComputed', spec(false)],
    ]);
    // T3: three published; a pull request imported.
    const published = (n: number) => ({
      ...pr(n),
      nodeId: `PR_${n}`,
      draft: false,
      baseRef: 'main',
      headRefOid: '4'.repeat(40),
      title: 'Hello',
      body: 'Hello',
    });
    await step([
      [IDS.a!, 'ChangesetPublished', published(1)],
      [IDS.b!, 'ChangesetPublished', published(2)],
      [IDS.c!, 'ChangesetPublished', published(3)],
      [IMPORTED, 'ChangesetImportRequested', { applyId: APPLY, number: 7 }],
    ]);
    // T4: the import is seen open, a is merged, b closed by hand.
    const seen = (number: number, state: string) => ({
      source: 'webhook',
      deliveryId: randomUUID(),
      trigger: 'pull_request.closed',
      number,
      state,
    });
    await step([
      [IMPORTED, 'ChangesetObserved', seen(7, 'open')],
      [IDS.a!, 'ChangesetObserved', seen(1, 'merged')],
      [IDS.b!, 'ChangesetObserved', seen(2, 'closed')],
    ]);
    // T5: c leaves the spec (still open), and the import is no longer listed: detached.
    await step([
      [IDS.c!, 'ChangesetSpecRemoved', { applyId: APPLY, reason: 'repository-left-spec' }],
      [IMPORTED, 'ChangesetSpecRemoved', { applyId: APPLY, reason: 'import-left-spec' }],
    ]);
    // T6: the reconciler closes c.
    await step([[IDS.c!, 'ChangesetClosed', { ...pr(3), reason: 'removed from the spec' }]]);

    // Then the campaign is closed and deleted, and its name applied anew: a new campaign, whose
    // changeset for a continues a's stream.
    await store.append(
      campaignStream(NAME),
      [
        {
          type: 'CampaignClosed',
          data: { campaign: NAME, closeChangesets: false, actor: 'alice' },
        },
        { type: 'CampaignDeleted', data: { campaign: NAME, actor: 'alice' } },
      ],
      { expected: 'any', metadata },
    );
    deleted = await afterNow();
    // The re-application is recorded after that millisecond, not in it.
    while ((await afterNow()).getTime() <= deleted.getTime() + 1) await sleep(1);
    await store.append(
      campaignStream(NAME),
      [
        {
          type: 'SpecApplied',
          data: {
            campaign: NAME,
            applyId: APPLY,
            specHash: '5'.repeat(64),
            specText: `name: ${NAME}\n`,
            fileName: 'b.yaml',
            actor: 'alice',
          },
        },
      ],
      { expected: 'any', metadata },
    );
    await store.append(
      changesetStream(IDS.a!),
      [
        {
          type: 'ChangesetSpecComputed',
          data: {
            campaign: NAME,
            changesetId: IDS.a!,
            repository: repo('a'),
            headBranch: 'hello',
            ...spec(true),
          },
        },
      ],
      { expected: 'any', metadata },
    );
    reapplied = await afterNow();
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  const expected: Partial<BurndownCounts>[] = [
    {},
    { pending: 3, unpublished: 1, total: 4 },
    { open: 3, pending: 1, unpublished: 1, total: 5 },
    { open: 2, merged: 1, closed: 1, unpublished: 1, total: 5 },
    { open: 1, merged: 1, closed: 1, detached: 1, unpublished: 1, total: 4 },
    { merged: 1, closed: 1, archived: 1, detached: 1, unpublished: 1, total: 3 },
  ];
  const full = (c: Partial<BurndownCounts>): BurndownCounts =>
    ({
      ...(Object.fromEntries(CHANGESET_STATES.map((s) => [s, 0])) as Record<string, number>),
      total: 0,
      ...c,
    }) as BurndownCounts;

  it('--every-change: at each moment, the counts the steps so far give', async () => {
    const b = await burndown('--every-change', '--until', moments.at(-1)!.toISOString());
    expect(b.campaign).toBe(NAME);
    const countsAt = (t: Date) => b.points.filter((p) => new Date(p.at) <= t).at(-1)!.counts;
    expect(moments.map(countsAt)).toEqual(expected.map(full));
    expect(b.points.at(-1)!.at).toBe(moments.at(-1)!.toISOString());
  });

  it('counts at each moment what the status projection replayed up to it shows, as campaign status would', async () => {
    for (const t of moments) {
      const last = (await burndown('--until', t.toISOString())).points.at(-1)!;
      expect(last.at).toBe(t.toISOString());
      const replayed = await campaignStatusAt({ DATABASE_URL: db.url }, NAME, t);
      const { counts, changesets } = replayed!.status;
      const byState = full({});
      for (const c of changesets) byState[c.state] += 1;
      expect({ ...last.counts, total: 0 }).toEqual(byState);
      expect(last.counts.total).toBe(counts.changesets);
      expect(last.counts.open + last.counts.draft).toBe(counts.open);
      expect(last.counts.merged).toBe(counts.merged);
      expect(last.counts.closed).toBe(counts.closed);
    }
  }, 60_000);

  it('prints a table with a column per state that occurs and the total', async () => {
    const until = moments.at(-1)!.toISOString();
    const r = await run('burndown', NAME, '--every-change', '--until', until);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s+/));
    // No changeset was ever a draft.
    const states = ['unpublished', 'pending', 'open', 'closed', 'merged', 'archived', 'detached'];
    expect(header).toEqual(['TIME', ...states.map((s) => s.toUpperCase()), 'TOTAL']);
    // To the second, or to the millisecond when two points share a second (they may here).
    expect([until, until.replace(/\.\d+Z$/, 'Z')]).toContain(rows.at(-1)![0]);
    expect(rows.at(-1)!.slice(1)).toEqual(
      [...states, 'total'].map((s) => String(full(expected.at(-1)!)[s as keyof BurndownCounts])),
    );
  });

  it('-o yaml: the same data', async () => {
    const { parse } = await import('yaml');
    const r = await run('burndown', NAME, '-o', 'yaml', '--until', moments.at(-1)!.toISOString());
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual(await burndown('--until', moments.at(-1)!.toISOString()));
  });

  it('after its campaign was deleted, counts the name applied anew as a new campaign, from nothing', async () => {
    const gone = await run('burndown', NAME, '--until', deleted.toISOString());
    expect(gone.code).toBe(1);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toMatch(
      new RegExp(
        `^campaign: burndown: campaign "${NAME}" was deleted at \\S+ and not applied again by ${deleted.toISOString()}; --until before then shows it as it was\n$`,
      ),
    );
    const b = await burndown('--every-change', '--until', reapplied.toISOString());
    // Milliseconds: the new application may be recorded in the millisecond the deletion was read in.
    expect(new Date(b.points[0]!.at).getTime()).toBeGreaterThanOrEqual(deleted.getTime());
    expect(b.points[0]!.counts).toEqual(full({}));
    // a was merged in the old campaign: in the new one it is to be published again.
    expect(b.points.at(-1)!.counts).toEqual(full({ pending: 1, total: 1 }));
  });

  it('refuses an unknown campaign, and a moment before the first apply, in one line', async () => {
    expect(await run('burndown', 'no-such-campaign')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'campaign: burndown: no campaign "no-such-campaign" in the event log\n',
    });
    const before = await run('burndown', NAME, '--until', '2020-01-01');
    expect(before).toEqual({
      code: 1,
      stdout: '',
      stderr: `campaign: burndown: campaign "${NAME}" had not been applied by 2020-01-01T00:00:00.000Z\n`,
    });
  });

  it('refuses an interval that would print more than 10,000 rows', async () => {
    const r = await run('burndown', NAME, '--interval', '1s', '--until', '2030-01-01');
    // The campaign exists (the positive case above); only the interval is refused.
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^campaign: --interval 1s gives more than 10000 rows/);
  });
});
