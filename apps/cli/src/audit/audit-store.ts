import { openDatabase, type EntityClass, withDatabasePassword } from '@campaigns/events';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { UsageError } from '../command.js';

export const DEFAULT_AUDIT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/campaigns';

/**
 * `AUDIT_DATABASE_URL`, else `DATABASE_URL`, else the local default; with the password from
 * `DATABASE_PASSWORD` or `DATABASE_PASSWORD_FILE` when one is set.
 */
export function auditDatabaseUrl(env: NodeJS.ProcessEnv): string {
  const url = env.AUDIT_DATABASE_URL || env.DATABASE_URL || DEFAULT_AUDIT_DATABASE_URL;
  const withPassword = withDatabasePassword(url, env);
  if (withPassword.problem !== undefined) throw new UsageError(withPassword.problem);
  return withPassword.url;
}

/** A small pool for one CLI run; errors on idle connections never crash the process. */
export function auditPool(env: NodeJS.ProcessEnv): pg.Pool {
  const pool = new pg.Pool({
    connectionString: auditDatabaseUrl(env),
    max: 2,
    application_name: 'campaign-audit',
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A DataSource for replays (`--verify`, `--at`): it lists the projections' entities, whose bare
 * table names resolve to the session's temporary copies; it creates nothing durable.
 */
export function auditDatabase(
  env: NodeJS.ProcessEnv,
  entities: readonly EntityClass[],
): Promise<DataSource> {
  return openDatabase({
    url: auditDatabaseUrl(env),
    schema: 'public',
    createSchema: false,
    applicationName: 'campaign-audit',
    poolSize: 1,
    entities: [...new Set(entities)],
  });
}
