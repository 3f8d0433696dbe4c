import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where tests create their throwaway databases; the local trust-auth PostgreSQL by default. */
export const TEST_ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * Creates a fresh, uniquely named database so concurrent test runs can never collide; in the
 * shared PostgreSQL unless `adminUrl` names another server (a test's own, see PrivatePostgres).
 */
export async function createTestDatabase(
  prefix = 'campaigns_test',
  adminUrl = TEST_ADMIN_URL,
): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 20 });
  // Idle clients are terminated by DROP DATABASE ... WITH (FORCE); that is expected here.
  pool.on('error', () => undefined);
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
