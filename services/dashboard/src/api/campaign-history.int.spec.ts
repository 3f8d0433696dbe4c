// What the dashboard reads from a real event log (PostgreSQL): the spec history with its diffs,
// a changeset's diff (from the blob table) and timeline, an imported pull request's timeline by
// its `#NUMBER` head branch, and nothing for what the log does not hold.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  campaignsCatalogue,
  campaignStream,
  changesetId,
  changesetStream,
  importedChangesetId,
  PostgresEventStore,
} from '@campaigns/events';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import { CampaignHistory } from './campaign-history.js';

const NAME = 'history-int';
const REPO = 'github.com/acme/api';
const APPLIES = [randomUUID(), randomUUID()];
const metadata = (apply: string) => ({
  correlation_id: apply,
  causation_id: null,
  actor: 'alice',
  source: 'test',
});
const specText = (title: string) => `name: ${NAME}\nchangesetTemplate:\n  title: ${title}\n`;
const DIFF = '--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n # api\n+Hello\n';

describe("the dashboard's reads of the event log", () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let history: CampaignHistory;

  beforeAll(async () => {
    db = await createTestDatabase('dashboard_history');
    store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    history = new CampaignHistory(db.pool, store);

    // Given two applications of the campaign, the second changing the title,
    for (const [i, title] of ['Hello', 'Hello again'].entries()) {
      const text = specText(title);
      await store.append(
        campaignStream(NAME),
        [
          {
            type: 'SpecApplied',
            data: {
              campaign: NAME,
              applyId: APPLIES[i]!,
              specHash: createHash('sha256').update(text).digest('hex'),
              specText: text,
              fileName: 'history.campaign.yaml',
              actor: 'alice',
            },
          },
        ],
        { expected: 'any', metadata: metadata(APPLIES[i]!) },
      );
    }
    // a changeset whose desired state carries a diff and which was then published,
    const diff = await store.putBlob(DIFF);
    const identity = {
      changesetId: changesetId(NAME, REPO, 'hello'),
      campaign: NAME,
      repository: REPO,
      headBranch: 'hello',
    };
    await store.append(
      changesetStream(identity.changesetId),
      [
        {
          type: 'ChangesetSpecComputed',
          data: {
            ...identity,
            applyId: APPLIES[1]!,
            executionId: 'e'.repeat(32),
            path: '',
            spec: {
              baseRef: 'main',
              baseRevision: '1'.repeat(40),
              title: 'Hello again',
              body: 'Hello',
              commit: { message: 'Hello', author: { name: 'a', email: 'a@example.com' } },
              published: true,
              diff,
              files: { modified: ['README.md'], added: [], deleted: [], renamed: [] },
            },
          },
        },
      ],
      { expected: 'any', metadata: metadata(APPLIES[1]!) },
    );
    // and a pull request the campaign imports.
    const imported = {
      changesetId: importedChangesetId(NAME, REPO, 7),
      campaign: NAME,
      repository: REPO,
      headBranch: '#7',
    };
    await store.append(
      changesetStream(imported.changesetId),
      [
        {
          type: 'ChangesetImportRequested',
          data: { ...imported, applyId: APPLIES[1]!, number: 7 },
        },
      ],
      { expected: 'any', metadata: metadata(APPLIES[1]!) },
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('shows the applied specs newest first, each with what it changed from the one before', async () => {
    const specs = await history.specs(NAME);
    expect(specs.map((s) => [s.applyId, s.actor, s.fileName])).toEqual([
      [APPLIES[1], 'alice', 'history.campaign.yaml'],
      [APPLIES[0], 'alice', 'history.campaign.yaml'],
    ]);
    expect(specs[0]!.specText).toBe(specText('Hello again'));
    expect(specs[0]!.diff).toContain('-  title: Hello\n+  title: Hello again\n');
    expect(specs[1]!.diff.startsWith('--- /dev/null\n')).toBe(true);
  });

  it("shows a changeset's diff from the blob table and its events described in order", async () => {
    const changeset = await history.changeset(NAME, REPO, 'hello');
    expect(changeset.diff).toEqual({ text: DIFF, truncated: false });
    expect(changeset.timeline).toEqual([
      {
        at: expect.any(String),
        type: 'ChangesetSpecComputed',
        actor: 'alice',
        correlation: APPLIES[1]!.replace(/-/g, '').slice(0, 8),
        text: `${REPO}@hello: desired state computed: title "Hello again", published true, base main`,
      },
    ]);
    expect(changeset.timelineTruncated).toBe(false);
  });

  it("finds an imported pull request's timeline by its #NUMBER head branch", async () => {
    const imported = await history.changeset(NAME, REPO, '#7');
    expect(imported.diff).toBeNull();
    expect(imported.timeline.map((e) => e.text)).toEqual([
      `${REPO}@#7: import of PR #7 requested (tracked, never pushed to)`,
    ]);
  });

  it('draws the burndown from the first application to now, at every change', async () => {
    const { points } = (await history.burndown(NAME))!;
    // Nothing at the first application; both changesets waiting to be published now (the
    // import until it is first seen), each counted from when its event was recorded.
    expect(points[0]!.counts.total).toBe(0);
    expect(points.at(-1)!.counts).toMatchObject({ pending: 2, open: 0, total: 2 });
    const totals = points.map((p) => p.counts.total);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
  });

  it('reads nothing for what the log does not hold', async () => {
    expect(await history.changeset(NAME, REPO, 'other')).toEqual({
      diff: null,
      timeline: [],
      timelineTruncated: false,
    });
    expect(await history.specs('no-such-campaign')).toEqual([]);
    expect(await history.burndown('no-such-campaign')).toBeNull();
  });
});
