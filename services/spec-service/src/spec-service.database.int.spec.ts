import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  migrateDatabase,
  openDatabase,
  projectionMigrations,
  runMigrations,
  type Migration,
} from '@campaigns/events';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import type { DataSource } from 'typeorm';
import { DESIRED_STATE_TABLES } from './desired-state/process-manager.js';
import { specServiceDatabase, SPEC_SERVICE_SCHEMA } from './spec-service.database.js';
import { CampaignStatusQueries } from './status/campaign-status.js';
import { statusProjection } from './status/status-projection.js';
import { RepositoryIndex } from './workspaces/repository-index.js';
import {
  REPOSITORY_INDEX_COMPONENT,
  repositoryIndexMigrations,
} from './workspaces/repository-index.migrations.js';

const SCHEMA = SPEC_SERVICE_SCHEMA;
const APPLY_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

/** The service's own list as today's runner applied it (its text then). */
const OLD_OWN_MIGRATIONS: Migration[] = [
  { version: 1, name: 'create spec_service schema', sql: 'CREATE SCHEMA spec_service' },
];

const open = (url: string): Promise<DataSource> => {
  const { entities, migrations } = specServiceDatabase();
  return openDatabase({ url, schema: SCHEMA, applicationName: 'test', entities, migrations });
};

const recorded = async (db: TestDatabase): Promise<string[]> =>
  (
    await db.pool.query<{ name: string }>(
      `SELECT name FROM ${SCHEMA}.typeorm_migrations ORDER BY id`,
    )
  ).rows.map((r) => r.name);

describe("spec-service's TypeORM migrations (real PostgreSQL)", () => {
  let db: TestDatabase;
  const opened: DataSource[] = [];

  beforeEach(async () => {
    db = await createTestDatabase('spec_service_migrations');
  });

  afterEach(async () => {
    for (const d of opened.splice(0)) await d.destroy();
    await db.drop();
  });

  it('adopt a database the old runner migrated: everything recorded, nothing run again, rows kept', async () => {
    // What the old runner left: the service's list at startup, the index's at its first use,
    // each projection's when its consumer started.
    await runMigrations(db.pool, 'spec-service', OLD_OWN_MIGRATIONS);
    await runMigrations(db.pool, REPOSITORY_INDEX_COMPONENT, repositoryIndexMigrations);
    for (const projection of [
      { ...DESIRED_STATE_TABLES, handle: () => Promise.resolve() },
      statusProjection(),
    ])
      await runMigrations(
        db.pool,
        `${SCHEMA}.${projection.name}`,
        projectionMigrations(projection, SCHEMA),
      );
    await db.pool.query(
      `INSERT INTO ${SCHEMA}.status_campaigns
         (campaign, apply_id, spec_hash, actor, applied_at, resolved, resolution_error, problems,
          updated_at, workspace_count)
       VALUES ('kept', $1, 'h', 'alice', now(), true, NULL, '[]', now(), 0)`,
      [APPLY_ID],
    );
    await db.pool.query(
      `INSERT INTO ${SCHEMA}.indexed_repositories
         (name, code_host_id, owner, default_branch, archived, fork, visibility, listed, files)
       VALUES ('github.com/acme/kept', 'github', 'acme', 'main', false, false, 'public', true,
               '{README.md}')`,
    );
    await db.pool.query(
      `INSERT INTO ${SCHEMA}.projection_checkpoints VALUES ('status', 'campaign-kept', 3)`,
    );

    const database = await open(db.url);
    opened.push(database);
    const names = specServiceDatabase().migrations.map((m) => new m().name!);
    expect(await migrateDatabase(database)).toEqual(names);
    expect(await recorded(db)).toEqual(names);
    expect(await migrateDatabase(database)).toEqual([]);

    // The rows are there, read through the entities.
    const status = new CampaignStatusQueries(database.manager, SCHEMA);
    expect(await status.currentApplyId('kept')).toBe(APPLY_ID);
    const index = new RepositoryIndex({ database, codeHosts: [] });
    expect(await index.get('github.com/acme/KEPT')).toMatchObject({
      name: 'github.com/acme/kept',
      files: ['README.md'],
      listed: true,
    });
    const { rows } = await db.pool.query(
      `SELECT stream_version FROM ${SCHEMA}.projection_checkpoints`,
    );
    expect(rows).toEqual([{ stream_version: '3' }]);
  });

  it('run once when two instances start at once on a fresh database', async () => {
    const [a, b] = await Promise.all([open(db.url), open(db.url)]);
    opened.push(a, b);
    const applied = await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
    const names = specServiceDatabase().migrations.map((m) => new m().name!);
    expect(applied.map((x) => x.length).sort()).toEqual([0, names.length]);
    expect(await recorded(db)).toEqual(names);
    const { rows } = await db.pool.query<{ tables: number }>(
      `SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = $1`,
      [SCHEMA],
    );
    // Checkpoints and dead letters, 4 pm_*, 4 status_*, 2 of the index, users and access tokens,
    // organizations and their members, the namespace names, and TypeORM's record.
    expect(rows[0]!.tables).toBe(18);
  });
});
