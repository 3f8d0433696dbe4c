import { afterEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { runMigrations, type Migration } from '../store/migrations.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { migrateDatabase, openDatabase, poolOf, schemaOf } from './database.js';
import { sqlMigrations } from './sql-migrations.js';

const v1: Migration = {
  version: 1,
  name: 'things',
  sql: `CREATE TABLE svc.things (id int PRIMARY KEY); INSERT INTO svc.things VALUES (1)`,
};
const v2: Migration = { version: 2, name: 'more', sql: `ALTER TABLE svc.things ADD note text` };

describe('openDatabase and migrateDatabase', () => {
  let db: TestDatabase;
  const open: DataSource[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.destroy();
    await db.drop();
  });
  const database = async (migrations: readonly Migration[]) => {
    const d = await openDatabase({
      url: db.url,
      schema: 'svc',
      applicationName: 'database test',
      entities: [],
      migrations: sqlMigrations({ component: 'svc', timestamp: 1_764_800_000_000, migrations }),
    });
    open.push(d);
    return d;
  };

  it("adopts what today's runner applied without running it again, then runs what is new", async () => {
    db = await createTestDatabase();
    await db.pool.query('CREATE SCHEMA svc');
    await runMigrations(db.pool, 'svc', [v1]);
    await db.pool.query('INSERT INTO svc.things VALUES (2)');

    const d = await database([v1, v2]);
    expect(await migrateDatabase(d)).toEqual(['svc_v1_1764800000001', 'svc_v2_1764800000002']);
    // v1 was not run again (it would have failed on the existing table, or lost row 2).
    expect((await db.pool.query('SELECT id, note FROM svc.things ORDER BY id')).rows).toEqual([
      { id: 1, note: null },
      { id: 2, note: null },
    ]);
    const recorded = await db.pool.query('SELECT name FROM svc.typeorm_migrations ORDER BY id');
    expect(recorded.rows.map((r) => r.name)).toEqual([
      'svc_v1_1764800000001',
      'svc_v2_1764800000002',
    ]);
    expect(await migrateDatabase(d)).toEqual([]);
  });

  it('lets two instances migrate a fresh database at once: one applies, the other finds it done', async () => {
    db = await createTestDatabase();
    const [a, b] = await Promise.all([database([v1, v2]), database([v1, v2])]);
    const applied = await Promise.all([migrateDatabase(a), migrateDatabase(b)]);
    expect(applied.map((names) => names.length).sort()).toEqual([0, 2]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM svc.things')).rows).toEqual([
      { n: 1 },
    ]);
    // Their connections search the service's schema, and the event store shares their pool.
    expect(schemaOf(a)).toBe('svc');
    expect((await poolOf(a).query('SELECT count(*)::int AS n FROM things')).rows).toEqual([
      { n: 1 },
    ]);
  });

  it('rolls back every migration of a run when one fails, and names it', async () => {
    db = await createTestDatabase();
    const broken: Migration = {
      version: 2,
      name: 'broken',
      sql: 'ALTER TABLE svc.nothing ADD x int',
    };
    const d = await database([v1, broken]);
    await expect(migrateDatabase(d)).rejects.toThrow(/migration svc #2 \(broken\) failed/);
    expect((await db.pool.query(`SELECT to_regclass('svc.things') AS t`)).rows).toEqual([
      { t: null },
    ]);
  });
});
