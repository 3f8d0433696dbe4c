import { openDatabase, poolOf, redactUrl } from '@campaigns/events';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { describeError } from '../logging/describe-error.js';
import type { ServiceLogger } from '../logging/service-logger.js';
import type { ServiceDefinition } from '../service/service-definition.js';
import { DependencyUnavailableError } from './dependency-unavailable.error.js';

/** How long to wait for a PostgreSQL connection, at startup and whenever the pool opens one. */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;

/**
 * How long an idle connection is kept. pg's default (10 s) closed connections between bursts of
 * work and opened new ones for the next (a reconciler opened ~40 in 8 s of a re-apply), each a
 * forked backend that warms its caches again: most of PostgreSQL's CPU in such a phase.
 */
export const POSTGRES_IDLE_TIMEOUT_MS = 300_000;

/**
 * Opens the service's TypeORM DataSource (creating its schema if missing), so a wrong URL fails
 * at startup rather than at the first request. Throws DependencyUnavailableError if it cannot.
 * Its migrations are not run here (`migrateDatabase`).
 */
export async function connectDatabase(
  url: string,
  definition: Pick<ServiceDefinition, 'name' | 'database'>,
  logger: ServiceLogger,
): Promise<DataSource> {
  try {
    return await openDatabase({
      url,
      schema: definition.database.schema,
      applicationName: definition.name,
      entities: definition.database.entities,
      migrations: definition.database.migrations,
      connectTimeoutMs: POSTGRES_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: POSTGRES_IDLE_TIMEOUT_MS,
      // An idle client can lose its connection (server restart, failover); the pool replaces it.
      onPoolError: (error) =>
        logger.warn({ reason: describeError(error) }, 'idle PostgreSQL connection lost'),
    });
  } catch (error) {
    throw new DependencyUnavailableError(
      'PostgreSQL',
      redactUrl(url),
      'DATABASE_URL',
      describeError(error),
    );
  }
}

/** A readiness check: the database answers `SELECT 1` within the timeout. */
export async function postgresAnswers(database: DataSource, timeoutMs: number): Promise<boolean> {
  const pool: pg.Pool = poolOf(database);
  await pool.query({ text: 'SELECT 1', query_timeout: timeoutMs } as pg.QueryConfig);
  return true;
}
