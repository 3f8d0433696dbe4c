import type { DataSource } from 'typeorm';
import { CONSUMER_ENTITIES } from '../database/consumer.entities.js';
import { migrateDatabase, openDatabase, type EntityClass } from '../database/database.js';
import { projectionSqlMigrations } from '../database/sql-migrations.js';
import type { ProjectionDefinition } from '../projections/projection.js';

/**
 * A DataSource over `schema` with the projections' tables migrated, as a service's startup
 * leaves it: what a test needs before it starts a `ProjectionConsumer` or replays.
 */
export async function openProjectionDatabase(
  url: string,
  schema: string,
  projections: readonly ProjectionDefinition[],
  extra: { entities?: readonly EntityClass[] } = {},
): Promise<DataSource> {
  const database = await openDatabase({
    url,
    schema,
    applicationName: `test ${schema}`,
    entities: [
      ...new Set([
        ...CONSUMER_ENTITIES,
        ...projections.flatMap((p) => p.entities),
        ...(extra.entities ?? []),
      ]),
    ],
    migrations: projections.flatMap((p, i) =>
      projectionSqlMigrations(p, schema, 1_700_000_000_000 + i * 1_000),
    ),
  });
  try {
    await migrateDatabase(database);
    return database;
  } catch (err) {
    await database.destroy();
    throw err;
  }
}
