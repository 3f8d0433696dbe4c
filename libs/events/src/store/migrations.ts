import { createHash } from 'node:crypto';
import type { Pool } from 'pg';

/** One forward-only schema change; `version` increases within a component. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// One advisory lock key for every component's migrations: instances starting at once queue up
// behind it, and the loser sees the winner's work already recorded.
export const MIGRATION_LOCK_KEY = 7_042_001;

/**
 * Applies the component's migrations that are not yet recorded, all in one transaction (all or
 * nothing) under a transaction-level advisory lock, so that concurrent starts are safe. Idempotent.
 */
export async function runMigrations(
  pool: Pool,
  component: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS public.campaigns_schema_migrations (
        component text NOT NULL,
        version integer NOT NULL,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        checksum text,
        PRIMARY KEY (component, version)
      )`);
    const { rows } = await client.query<{ version: number; checksum: string | null }>(
      'SELECT version, checksum FROM public.campaigns_schema_migrations WHERE component = $1',
      [component],
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      const checksum = createHash('sha256').update(m.sql).digest('hex');
      if (done.has(m.version)) {
        // An applied migration never changes: its effect is already in the database.
        if (done.get(m.version) !== checksum) {
          throw new Error(
            `migration ${component} #${m.version} (${m.name}) was changed after this database applied it; ` +
              'restore its text and put the change in a new migration',
          );
        }
        continue;
      }
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new Error(
          `migration ${component} #${m.version} (${m.name}) failed: ${(err as Error).message}`,
          { cause: err },
        );
      }
      await client.query(
        'INSERT INTO public.campaigns_schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)',
        [component, m.version, m.name, checksum],
      );
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
