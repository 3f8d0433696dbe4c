import { PostgresEventStore } from '../store/event-store.js';
import { PrivatePostgres } from './private-servers.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { testCatalogue } from './test-events.js';

/** An event store over a database in a PostgreSQL of the test's own, which the test may stop. */
export interface PrivateEventStore {
  postgres: PrivatePostgres;
  db: TestDatabase;
  store: PostgresEventStore;
  /** Ends the pool and removes the cluster. */
  destroy(): Promise<void>;
}

export async function startPrivateEventStore(database: string): Promise<PrivateEventStore> {
  const postgres = await PrivatePostgres.start();
  const db = await createTestDatabase(database, postgres.url());
  // The server goes away on purpose: its idle connections' errors are expected.
  db.pool.on('error', () => undefined);
  const store = new PostgresEventStore(db.pool, testCatalogue);
  await store.migrate();
  return {
    postgres,
    db,
    store,
    async destroy() {
      await db.pool.end().catch(() => undefined);
      postgres.destroy();
    },
  };
}
