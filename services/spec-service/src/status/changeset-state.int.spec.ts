import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { CHANGESET_STATES } from '@campaigns/contracts';
import { campaignStream, type StoredEvent } from '@campaigns/events';
import type { DataSource } from 'typeorm';
import {
  createTestDatabase,
  openProjectionDatabase,
  type TestDatabase,
} from '@campaigns/events/testing';
import { inTransaction } from '../test-support/spec-service-database.js';
import {
  CAMPAIGN_STATUS_ENTITIES,
  CampaignStatusQueries,
  processManagerStandInSql,
} from './campaign-status.js';
import { changesetState, countedChangeset, Rows } from './changeset-state.js';
import { IMPORTED, type StatusChangesetRow } from './status-evolve.js';
import { statusProjection } from './status-projection.js';
import { CHANGESETS, saveRows } from './status-store.js';

const SCHEMA = 'changeset_state_test';
const CAMPAIGN = 'states';

const HOST_STATES = [null, 'open', 'draft', 'closed', 'merged'] as const;
const PUBLISHED = ['true', 'false', 'draft', IMPORTED] as const;

function specApplied(): StoredEvent {
  return {
    global_position: 1n,
    transaction_id: 1n,
    event_id: randomUUID(),
    stream_id: campaignStream(CAMPAIGN),
    stream_version: 1n,
    type: 'SpecApplied',
    schema_version: 1,
    data: {
      campaign: CAMPAIGN,
      applyId: randomUUID(),
      specHash: 'b'.repeat(64),
      specText: 'x',
      fileName: 'f',
      actor: 'alice',
    },
    metadata: { correlation_id: randomUUID(), causation_id: null, actor: 'alice', source: 'test' },
    recorded_at: new Date(0),
    hash: '',
  };
}

/** One row for every combination of what the state is decided from. */
function everyCombination(): StatusChangesetRow[] {
  const rows: StatusChangesetRow[] = [];
  for (const host_state of HOST_STATES)
    for (const wanted of [true, false])
      for (const published of PUBLISHED)
        for (const scheduled_for of [null, '', '2026-12-06T12:00:00.000Z']) {
          const n = rows.length;
          rows.push({
            changeset_id: `cs${n}`,
            campaign: CAMPAIGN,
            repository: 'github.com/acme/api',
            // Pages are ordered by head branch: padded, the rows come back in this order.
            head_branch: `b${String(n).padStart(3, '0')}`,
            workspace_path: '',
            wanted,
            published,
            spec_event_id: randomUUID(),
            reconciled_spec_event_id: null,
            host_state,
            draft: host_state === 'draft',
            checks: null,
            review: null,
            url: null,
            number: host_state === null ? null : n + 1,
            last_error: null,
            error_terminal: false,
            scheduled_for,
            title: null,
            base_branch: null,
            files_changed: null,
            diff_sha256: null,
            updated_at: new Date(0),
          });
        }
  return rows;
}

/**
 * `changesetState` is the status SQL's `CHANGESET_STATE` in TypeScript (for `campaign burndown`,
 * which folds the log itself): the two must never disagree, so the SQL is asked about every row.
 */
describe('changesetState against the status queries (real PostgreSQL)', () => {
  let db: TestDatabase;
  let database: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('spec_changeset_state');
    database = await openProjectionDatabase(db.url, SCHEMA, [statusProjection()], {
      entities: CAMPAIGN_STATUS_ENTITIES,
    });
    await db.pool.query(processManagerStandInSql(SCHEMA));
  });

  async function save(rows: readonly StatusChangesetRow[]): Promise<void> {
    const batch = new Rows<StatusChangesetRow>([]);
    for (const r of rows) batch.set(r.changeset_id, r);
    await saveRows(database.manager, SCHEMA, CHANGESETS, batch);
  }

  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
  });

  it('gives every combination of host state, wanted and published the state campaign status shows', async () => {
    const rows = everyCombination();
    await save(rows);
    const shown = await new CampaignStatusQueries(database.manager, SCHEMA).changesets(
      CAMPAIGN,
      null,
      1000,
    );
    expect(shown.map((c) => c.state)).toEqual(rows.map((r) => changesetState(r)));
    // Every state is reached, so none of the SQL's branches goes unchecked.
    expect(new Set(shown.map((c) => c.state))).toEqual(
      new Set([
        'unpublished',
        'pending',
        'scheduled',
        'open',
        'draft',
        'closed',
        'merged',
        'removed',
        'archived',
        'detached',
      ]),
    );
  });

  it("counts among the campaign's changesets, open, closed and merged what the summary counts", async () => {
    const rows = everyCombination();
    await inTransaction(database, ({ tx, manager }) =>
      statusProjection().handle([specApplied()], { tx, manager, schema: SCHEMA }),
    );
    const states = rows.map((r) => changesetState(r));
    const count = (p: (s: (typeof states)[number]) => boolean) => states.filter(p).length;
    const summary = await new CampaignStatusQueries(database.manager, SCHEMA).summary(CAMPAIGN);
    expect(summary?.counts).toMatchObject({
      changesets: count(countedChangeset),
      states: Object.fromEntries(CHANGESET_STATES.map((st) => [st, count((s) => s === st)])),
      published: rows.filter((r, i) => r.number !== null && countedChangeset(states[i]!)).length,
      open: count((s) => s === 'open' || s === 'draft'),
      closed: count((s) => s === 'closed'),
      merged: count((s) => s === 'merged'),
    });
  });
});
