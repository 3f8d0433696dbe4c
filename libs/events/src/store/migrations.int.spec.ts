import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runMigrations, type Migration } from './migrations.js';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';

describe('runMigrations', () => {
  let db: TestDatabase;
  const v1: Migration = {
    version: 1,
    name: 'widgets',
    sql: 'CREATE TABLE widgets (id int PRIMARY KEY)',
  };
  const v2: Migration = {
    version: 2,
    name: 'widget names',
    sql: 'ALTER TABLE widgets ADD COLUMN name text',
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('applies only what is new, once, and reports what it applied', async () => {
    expect(await runMigrations(db.pool, 'widgets', [v1])).toEqual([1]);
    expect(await runMigrations(db.pool, 'widgets', [v1])).toEqual([]);
    expect(await runMigrations(db.pool, 'widgets', [v2, v1])).toEqual([2]);
  });

  it('refuses to start when an applied migration was edited, naming it', async () => {
    const edited = { ...v1, sql: 'CREATE TABLE widgets (id bigint PRIMARY KEY)' };
    await expect(runMigrations(db.pool, 'widgets', [edited, v2])).rejects.toThrow(
      'migration widgets #1 (widgets) was changed after this database applied it; restore its text and put the change in a new migration',
    );
  });

  it('applies nothing of a set whose later migration fails', async () => {
    const bad: Migration = {
      version: 2,
      name: 'broken',
      sql: 'ALTER TABLE nowhere ADD COLUMN x int',
    };
    await expect(
      runMigrations(db.pool, 'gadgets', [{ ...v1, sql: 'CREATE TABLE gadgets (id int)' }, bad]),
    ).rejects.toThrow(/migration gadgets #2 \(broken\) failed/);
    const { rows } = await db.pool.query(`SELECT to_regclass('public.gadgets') AS t`);
    expect(rows[0].t).toBeNull();
  });
});
