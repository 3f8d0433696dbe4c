import pg from 'pg';
import { describeError } from '../logging/describe-error.js';
import { redactUrl } from '@campaigns/events';
import type { ServiceLogger } from '../logging/service-logger.js';
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
 * Opens a pool and proves the database answers, so a wrong URL fails at startup rather than at
 * the first request. Throws DependencyUnavailableError (with the pool already closed) if not.
 */
export async function connectPostgres(
  url: string,
  service: string,
  logger: ServiceLogger,
): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: POSTGRES_IDLE_TIMEOUT_MS,
    application_name: service,
  });
  // An idle client can lose its connection (server restart, failover); pg then emits 'error' on
  // the pool, which would crash the process if unhandled. The pool replaces the client itself.
  pool.on('error', (error) =>
    logger.warn({ reason: describeError(error) }, 'idle PostgreSQL connection lost'),
  );
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DependencyUnavailableError(
      'PostgreSQL',
      redactUrl(url),
      'DATABASE_URL',
      describeError(error),
    );
  }
}

/** A readiness check: the database answers `SELECT 1` within the timeout. */
export async function postgresAnswers(pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  await pool.query({ text: 'SELECT 1', query_timeout: timeoutMs } as pg.QueryConfig);
  return true;
}
