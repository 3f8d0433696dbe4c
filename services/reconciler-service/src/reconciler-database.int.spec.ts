import { afterEach, describe, expect, it } from '@jest/globals';
import {
  migrateDatabase,
  openDatabase,
  ProjectionCheckpoint,
  projectionMigrations,
  runMigrations,
  type Migration,
} from '@campaigns/events';
import { createTestDatabase, type TestDatabase } from '@campaigns/events/testing';
import type { DataSource } from 'typeorm';
import {
  CHANGESET_ENTITIES,
  ChangesetEntity,
  changesetProjection,
  ReconcileQueueEntry,
} from './projection/changeset-projection.js';
import { BULK_JOB_ENTITIES } from './bulk/bulk-jobs.projection.js';
import { reconcilerDatabase } from './reconciler-database.js';
import { RECONCILER_SCHEMA } from './reconciler-settings.js';

/** The service's own list as the old runner (`runMigrations`) applied it. */
const OLD_SERVICE_MIGRATIONS: Migration[] = [
  { version: 1, name: 'create reconciler_service schema', sql: 'CREATE SCHEMA reconciler_service' },
];

const migrationNames = () => reconcilerDatabase.migrations.map((M) => new M().name!);

describe("reconciler-service's TypeORM migrations", () => {
  let db: TestDatabase | undefined;
  const opened: DataSource[] = [];
  const open = async (url: string) => {
    const database = await openDatabase({
      url,
      applicationName: 'reconciler-migrations-test',
      ...reconcilerDatabase,
    });
    opened.push(database);
    return database;
  };

  afterEach(async () => {
    for (const database of opened.splice(0)) await database.destroy();
    await db?.drop();
    db = undefined;
  });

  it('adopts a database the old runner migrated: records every migration, re-runs none, keeps the rows', async () => {
    db = await createTestDatabase('reconciler_adopt');
    await runMigrations(db.pool, 'reconciler-service', OLD_SERVICE_MIGRATIONS);
    // The old runner was retired before the projection's second migration (head_repository):
    // it applied the first ones only, and TypeORM runs the rest.
    await runMigrations(
      db.pool,
      `${RECONCILER_SCHEMA}.changesets`,
      projectionMigrations(changesetProjection(), RECONCILER_SCHEMA).filter((m) => m.version <= 1),
    );
    await db.pool.query(
      `INSERT INTO reconciler_service.changesets (changeset_id, campaign, repository, head_branch,
         publication_state, draft, archived, attempts, stream_version, last_pushed)
       VALUES ('c1', 'hello-world', 'github.com/acme/api', 'hello', 'published', false, false, 0, 4,
               '{"commitSha": "abc"}')`,
    );
    await db.pool.query(
      `INSERT INTO reconciler_service.reconcile_queue (changeset_id, due_at, due_version, reason)
       VALUES ('c1', '2026-03-01T10:00:00Z', 4, 'retry')`,
    );
    await db.pool.query(
      `INSERT INTO reconciler_service.projection_checkpoints (projection, stream_id, stream_version)
       VALUES ('changesets', 'changeset-c1', 4)`,
    );

    const database = await open(db.url);
    expect(await migrateDatabase(database)).toEqual(migrationNames());
    expect(await migrateDatabase(database)).toEqual([]);

    const recorded = (await database.query('SELECT name FROM typeorm_migrations ORDER BY id')) as {
      name: string;
    }[];
    expect(recorded.map((r) => r.name)).toEqual(migrationNames());
    // The old runner's records stay as they were: nothing ran through it again.
    const legacy = await db.pool.query<{ component: string; version: number }>(
      `SELECT component, version FROM public.campaigns_schema_migrations ORDER BY component, version`,
    );
    expect(legacy.rows).toEqual([
      { component: 'reconciler-service', version: 1 },
      { component: 'reconciler_service.changesets', version: 0 },
      { component: 'reconciler_service.changesets', version: 1 },
    ]);
    // The rows survive, read through the entities.
    expect(
      await database.getRepository(ChangesetEntity).findOneByOrFail({ changesetId: 'c1' }),
    ).toMatchObject({
      campaign: 'hello-world',
      publicationState: 'published',
      number: null,
      lastPushed: { commitSha: 'abc' },
      headRepository: null,
      streamVersion: '4',
    });
    expect(
      await database.getRepository(ReconcileQueueEntry).findOneByOrFail({ changesetId: 'c1' }),
    ).toMatchObject({
      dueAt: new Date('2026-03-01T10:00:00Z'),
      dueVersion: '4',
      waitVersion: '0',
      leasedBy: null,
    });
    expect(await database.getRepository(ProjectionCheckpoint).count()).toBe(1);
  }, 30_000);

  it('lets two instances migrate a fresh database at once: each migration runs once', async () => {
    db = await createTestDatabase('reconciler_race');
    const url = db.url;
    const [a, b] = await Promise.all([open(url), open(url)]);
    const applied = await Promise.all([migrateDatabase(a!), migrateDatabase(b!)]);
    // One ran them all, the other found them recorded.
    expect(applied.map((names) => names.length).sort()).toEqual([0, migrationNames().length]);
    expect(applied.flat()).toEqual(migrationNames());

    const schemas = await db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname = $1`, [
      RECONCILER_SCHEMA,
    ]);
    expect(schemas.rowCount).toBe(1);
    const tables = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [RECONCILER_SCHEMA],
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'bulk_jobs',
      'bulk_operations',
      'changeset_specs',
      'changesets',
      'dead_letters',
      'projection_checkpoints',
      'publication_ledger',
      'reconcile_queue',
      'typeorm_migrations',
    ]);
  }, 30_000);

  it("has entities matching the tables the projections' SQL migrations create", async () => {
    db = await createTestDatabase('reconciler_entities');
    await migrateDatabase(await open(db.url));
    // Only the service's own entities (the consumer's bookkeeping ones are the library's).
    const own = await openDatabase({
      url: db.url,
      schema: RECONCILER_SCHEMA,
      applicationName: 'reconciler-migrations-test',
      entities: [...CHANGESET_ENTITIES, ...BULK_JOB_ENTITIES],
    });
    opened.push(own);
    // What TypeORM would change to make the tables fit the entities: nothing.
    const pending = await own.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  }, 30_000);
});
