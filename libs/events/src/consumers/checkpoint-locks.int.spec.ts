import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '../test-support/test-database.js';
import { lockCheckpointRows } from './projection-consumer.js';

/** A pg client seen as `manager.query` sees it (rows, not a result). */
const rowsOf = (client: PoolClient) => ({
  query: async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows,
});

describe('lockCheckpointRows', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`CREATE SCHEMA p;
      CREATE TABLE p.projection_checkpoints (
        projection text NOT NULL, stream_id text NOT NULL, stream_version bigint NOT NULL,
        PRIMARY KEY (projection, stream_id))`);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('creates missing rows at version 0 and returns existing versions, holding the locks', async () => {
    await db.pool.query(
      `INSERT INTO p.projection_checkpoints VALUES ('x', 'a-1', 4), ('y', 'b-1', 9)`,
    );
    const tx = await db.pool.connect();
    const other = await db.pool.connect();
    try {
      await tx.query('BEGIN');
      const locked = await lockCheckpointRows(rowsOf(tx), 'p', 'x', ['c-1', 'a-1', 'c-1']);
      expect(locked).toEqual(
        new Map([
          ['a-1', 4n],
          ['c-1', 0n],
        ]),
      );
      // Both rows are locked: another transaction cannot take them.
      await other.query('BEGIN');
      await other.query(`SET LOCAL lock_timeout = '100ms'`);
      await expect(
        other.query(`SELECT 1 FROM p.projection_checkpoints WHERE stream_id = 'a-1' FOR UPDATE`),
      ).rejects.toThrow(/lock timeout/);
      await other.query('ROLLBACK');
      await other.query('BEGIN');
      await other.query(`SET LOCAL lock_timeout = '100ms'`);
      // A row created and not yet committed: anyone else creating it waits.
      await expect(
        other.query(
          `INSERT INTO p.projection_checkpoints VALUES ('x', 'c-1', 0) ON CONFLICT DO NOTHING`,
        ),
      ).rejects.toThrow(/lock timeout/);
      await other.query('ROLLBACK');
      await tx.query('COMMIT');
    } finally {
      tx.release();
      other.release();
    }
  });

  it('finds and locks a row another transaction created while it waited', async () => {
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      await first.query('BEGIN');
      await first.query(`INSERT INTO p.projection_checkpoints VALUES ('x', 'd-1', 7)`);
      await second.query('BEGIN');
      // Waits on the first transaction's row; sees it only once that commits, after its snapshot.
      const waiting = lockCheckpointRows(rowsOf(second), 'p', 'x', ['d-1']);
      const waitingOnLocks = async () =>
        (
          await db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND datname = current_database()`,
          )
        ).rows[0]!.n;
      // The server starts waiting a moment later: checked rather than assumed.
      let blocked = 0;
      for (let i = 0; i < 100 && blocked === 0; i++) {
        blocked = await waitingOnLocks();
        if (blocked === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(blocked).toBeGreaterThan(0);
      await first.query('COMMIT');
      expect(await waiting).toEqual(new Map([['d-1', 7n]]));
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
  });
});
