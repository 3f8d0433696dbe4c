import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { freePort } from '../test-support/private-servers.js';
import { isDependencyOutage } from './dependency-outage.js';

/** An error shaped like node-postgres's DatabaseError with a SQLSTATE. */
function sqlError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isDependencyOutage', () => {
  it('recognises a refused connection to PostgreSQL as node-postgres reports it', async () => {
    const client = new pg.Client({
      connectionString: `postgres://x@127.0.0.1:${await freePort()}/x`,
    });
    const error = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(/ECONNREFUSED/);
    expect(isDependencyOutage(error)).toBe(true);
  });

  it('recognises a server shutting down, starting up or a connection gone', () => {
    expect(
      isDependencyOutage(sqlError('57P01', 'terminating connection due to administrator command')),
    ).toBe(true);
    expect(isDependencyOutage(sqlError('57P03', 'the database system is starting up'))).toBe(true);
    expect(isDependencyOutage(sqlError('08006', 'connection failure'))).toBe(true);
    expect(isDependencyOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDependencyOutage(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('looks through TypeORM driverError and Error cause', () => {
    const driver = new Error('Connection terminated unexpectedly');
    const typeorm = Object.assign(new Error('Connection terminated unexpectedly wrapped'), {
      name: 'QueryFailedError',
      driverError: driver,
      message: 'query failed',
    });
    expect(isDependencyOutage(typeorm)).toBe(true);
    expect(
      isDependencyOutage(new Error('append failed', { cause: sqlError('ECONNREFUSED', 'x') })),
    ).toBe(true);
  });

  it('recognises the NATS client errors of a closed or timed-out connection by name', () => {
    for (const name of ['ClosedConnectionError', 'ConnectionError', 'TimeoutError']) {
      expect(isDependencyOutage(Object.assign(new Error('x'), { name }))).toBe(true);
    }
  });

  it('does not take the work’s own failures for an outage', () => {
    expect(
      isDependencyOutage(sqlError('23505', 'duplicate key value violates unique constraint')),
    ).toBe(false);
    expect(isDependencyOutage(sqlError('42P01', 'relation "x" does not exist'))).toBe(false);
    expect(isDependencyOutage(new Error('step 1 exited with 2'))).toBe(false);
    expect(isDependencyOutage('Connection terminated')).toBe(false);
    expect(isDependencyOutage(undefined)).toBe(false);
  });

  it('stops following a cycle of causes', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(isDependencyOutage(a)).toBe(false);
  });
});
