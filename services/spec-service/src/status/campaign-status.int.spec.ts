import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  campaignsCatalogue,
  campaignStream,
  CONSUMER_ENTITIES,
  executionId,
  executionStream,
  migrateDatabase,
  openDatabase,
  PostgresEventStore,
  projectionSqlMigrations,
  type MigrationClass,
  type StoredEvent,
} from '@campaigns/events';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  createTestDatabase,
  openProjectionDatabase,
  type TestDatabase,
} from '@campaigns/events/testing';
import { testWorkspace } from '../test-support/fixed-resolver.js';
import { inTransaction } from '../test-support/spec-service-database.js';
import { CampaignStatusQueries, processManagerStandInSql } from './campaign-status.js';
import { statusProjection } from './status-projection.js';

const SCHEMA = 'status_test';
const SPEC_HASH = 'b'.repeat(64);
const metadata = {
  correlation_id: randomUUID(),
  causation_id: null,
  actor: 'alice',
  source: 'test',
};

/**
 * The status projection applied batch by batch, as its consumer does: a batch may end anywhere in
 * the log, including inside the transaction that recorded an application's resolution.
 */
describe('campaign status between batches of the status projection (real PostgreSQL)', () => {
  let db: TestDatabase;
  let database: DataSource;
  let store: PostgresEventStore;
  const projection = statusProjection();

  beforeAll(async () => {
    db = await createTestDatabase('spec_status_batches');
    store = new PostgresEventStore(db.pool, campaignsCatalogue());
    await store.migrate();
    database = await openProjectionDatabase(db.url, SCHEMA, [projection]);
    await db.pool.query(processManagerStandInSql(SCHEMA));
  });

  afterAll(async () => {
    await database?.destroy();
    await db?.drop();
  });

  async function handle(events: readonly StoredEvent[]): Promise<void> {
    await inTransaction(database, ({ tx, manager }) =>
      projection.handle(events, { tx, manager, schema: SCHEMA }),
    );
  }

  /** The application and its resolution, recorded together as the process manager does. */
  async function applyAndResolve(campaign: string, applyId: string, workspaceCount: number) {
    const common = { campaign, applyId, specHash: SPEC_HASH };
    await store.append(
      campaignStream(campaign),
      [
        { type: 'SpecApplied', data: { ...common, specText: 'x', fileName: 'f', actor: 'alice' } },
        {
          type: 'WorkspacesResolved',
          data: { ...common, workspaceCount, problems: [], problemsOmitted: 0 },
        },
      ],
      { expected: 'any', metadata },
    );
  }

  it('a resolution whose executions are in the next batch is executing, never complete with 0 of 0', async () => {
    const campaign = 'split';
    const applyId = randomUUID();
    const repos = ['github.com/acme/a', 'github.com/acme/b'];
    await applyAndResolve(campaign, applyId, repos.length);
    const queued = repos.map((r) =>
      executionId(applyId, { repository: r, branch: 'main', path: '' }),
    );
    await store.appendToStreams(
      queued.map((id, i) => ({
        stream: executionStream(id),
        expected: 'any' as const,
        event: {
          type: 'ExecutionQueued',
          data: {
            executionId: id,
            campaign,
            applyId,
            specHash: SPEC_HASH,
            workspace: testWorkspace(repos[i]!),
          },
        },
      })),
      metadata,
    );
    const campaignEvents = await store.readStream(campaignStream(campaign));
    const queries = new CampaignStatusQueries(database.manager, SCHEMA);

    await handle(campaignEvents);
    const between = await queries.summary(campaign);
    expect(between).toMatchObject({
      phase: 'executing',
      counts: { workspaces: 2, executed: 0 },
    });

    await handle(
      (await Promise.all(queued.map((id) => store.readStream(executionStream(id))))).flat(),
    );
    expect(await queries.summary(campaign)).toMatchObject({
      phase: 'executing',
      counts: { workspaces: 2, executed: 0 },
    });
  });

  it('a resolution to no workspace at all is complete at once', async () => {
    const campaign = 'empty';
    const applyId = randomUUID();
    await applyAndResolve(campaign, applyId, 0);
    const queries = new CampaignStatusQueries(database.manager, SCHEMA);
    await handle((await store.readStream(campaignStream(campaign))).slice(0, 1));
    expect((await queries.summary(campaign))?.phase).toBe('executing');
    await handle((await store.readStream(campaignStream(campaign))).slice(1));
    expect(await queries.summary(campaign)).toMatchObject({
      phase: 'complete',
      counts: { workspaces: 0 },
    });
  });
  it('a database from before the count gets it from the executions recorded with it', async () => {
    const schema = 'status_upgrade';
    // Its consumer's bookkeeping (version 0), then versions 1 to 4.
    const all = projectionSqlMigrations(projection, schema, 1_764_806_403_000);
    const migrate = async (migrations: readonly MigrationClass[]) => {
      const upgrading = await openDatabase({
        url: db.url,
        schema,
        applicationName: 'status upgrade',
        entities: [...CONSUMER_ENTITIES, ...projection.entities],
        migrations,
      });
      try {
        return await migrateDatabase(upgrading);
      } finally {
        await upgrading.destroy();
      }
    };
    await migrate(all.slice(0, 3));
    const applyId = randomUUID();
    await db.pool.query(
      `INSERT INTO ${schema}.status_campaigns
         (campaign, apply_id, spec_hash, actor, applied_at, resolved, resolution_error, problems, updated_at)
       VALUES ('done', $1, $2, 'alice', now(), true, NULL, '[]', now()),
              ('pending', $1, $2, 'alice', now(), false, NULL, '[]', now())`,
      [applyId, SPEC_HASH],
    );
    await db.pool.query(
      `INSERT INTO ${schema}.status_executions
         (execution_id, campaign, apply_id, repository, path, state, message, stderr_tail, updated_at)
       SELECT c || i, c, $1, 'github.com/acme/r' || i, '', 'queued', NULL, NULL, now()
         FROM generate_series(1, 3) i, unnest(ARRAY['done', 'pending']) c`,
      [applyId],
    );
    expect(await migrate(all.slice(0, 4))).toHaveLength(1);
    const { rows } = await db.pool.query<{ campaign: string; workspace_count: number | null }>(
      `SELECT campaign, workspace_count FROM ${schema}.status_campaigns ORDER BY campaign`,
    );
    expect(rows).toEqual([
      { campaign: 'done', workspace_count: 3 },
      { campaign: 'pending', workspace_count: null },
    ]);

    // Version 4: changesets computed before it have no known workspace path.
    await db.pool.query(
      `INSERT INTO ${schema}.status_changesets (changeset_id, campaign, repository, head_branch,
         wanted, published, spec_event_id, draft, error_terminal, updated_at)
       VALUES ('c1', 'done', 'github.com/acme/r1', 'b', true, 'true', $1, false, false, now())`,
      [randomUUID()],
    );
    expect(await migrate(all.slice(0, 5))).toHaveLength(1);
    const paths = await db.pool.query(`SELECT workspace_path FROM ${schema}.status_changesets`);
    expect(paths.rows).toEqual([{ workspace_path: null }]);

    // Version 5: executions projected before it have no known branch.
    expect(await migrate(all.slice(0, 6))).toHaveLength(1);
    const branches = await db.pool.query(`SELECT DISTINCT branch FROM ${schema}.status_executions`);
    expect(branches.rows).toEqual([{ branch: null }]);

    // Version 6: campaigns from before it are open.
    expect(await migrate(all.slice(0, 7))).toHaveLength(1);
    const closed = await db.pool.query(
      `SELECT DISTINCT closed_at, closed_by FROM ${schema}.status_campaigns`,
    );
    expect(closed.rows).toEqual([{ closed_at: null, closed_by: null }]);

    // Version 7: changesets from before it wait for no publication slot.
    expect(await migrate(all.slice(0, 8))).toHaveLength(1);
    const scheduled = await db.pool.query(
      `SELECT DISTINCT scheduled_for FROM ${schema}.status_changesets`,
    );
    expect(scheduled.rows).toEqual([{ scheduled_for: null }]);

    // Version 8: changesets from before it have no title, base branch or diff known (a replay
    // of the log fills them in).
    expect(await migrate(all)).toHaveLength(1);
    const diffs = await db.pool.query(
      `SELECT DISTINCT title, base_branch, files_changed, diff_sha256 FROM ${schema}.status_changesets`,
    );
    expect(diffs.rows).toEqual([
      { title: null, base_branch: null, files_changed: null, diff_sha256: null },
    ]);
  });
});
