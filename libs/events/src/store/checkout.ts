import type { Pool, PoolClient } from 'pg';

/**
 * Takes a client from the pool with an 'error' listener attached: a connection that dies while
 * checked out (a terminated backend, a restart) then fails its next query instead of crashing the
 * process with an unhandled 'error' event. Pass `release` the failure to drop a broken connection.
 */
export async function checkout(
  pool: Pool,
  onError?: (err: Error) => void,
): Promise<PoolClient & { done(err?: Error | boolean): void }> {
  const client = await pool.connect();
  const listener = (err: Error) => onError?.(err);
  client.on('error', listener);
  return Object.assign(client, {
    done(err?: Error | boolean) {
      client.removeListener('error', listener);
      client.release(err);
    },
  });
}
