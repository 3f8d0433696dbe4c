import { migrateDatabase, openDatabase } from '@campaigns/events';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { specServiceDatabase, SPEC_SERVICE_SCHEMA } from '../spec-service.database.js';

/**
 * A DataSource over spec-service's tables in `schema` (spec_service by default), migrated as the
 * service's startup leaves it. The caller destroys it.
 */
export async function openSpecServiceDatabase(
  url: string,
  schema: string = SPEC_SERVICE_SCHEMA,
): Promise<DataSource> {
  const { entities, migrations } = specServiceDatabase(schema);
  const database = await openDatabase({
    url,
    schema,
    applicationName: `test spec-service ${schema}`,
    entities,
    migrations,
  });
  try {
    await migrateDatabase(database);
    return database;
  } catch (error) {
    await database.destroy();
    throw error;
  }
}

/**
 * Runs `fn` in one transaction on one of the DataSource's connections, as a projection consumer
 * does: `manager` for the read model, `tx` (the same connection's pg client) for the event store.
 */
export async function inTransaction<T>(
  database: DataSource,
  fn: (ctx: { tx: PoolClient; manager: EntityManager }) => Promise<T>,
): Promise<T> {
  const runner = database.createQueryRunner();
  try {
    const tx = (await runner.connect()) as PoolClient;
    await runner.startTransaction();
    const result = await fn({ tx, manager: runner.manager });
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}
