import pg from 'pg';
import {
  DataSource,
  MigrationExecutor,
  type EntitySchema,
  type LoggerOptions,
  type MixedList,
} from 'typeorm';
import { assertIdentifier } from '../projections/projection.js';
import { MIGRATION_LOCK_KEY } from '../store/migrations.js';
import type { MigrationClass } from './sql-migrations.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityClass = Function | EntitySchema;

export interface DatabaseOptions {
  url: string;
  /**
   * The schema the service owns: its connections search it (`search_path`), so its entities,
   * which name no schema, are its tables there; and TypeORM records its migrations there
   * (`typeorm_migrations`). Created if missing.
   */
  schema: string;
  /** Names the connections in `pg_stat_activity`. */
  applicationName: string;
  entities: readonly EntityClass[];
  migrations?: readonly MigrationClass[];
  /**
   * Create the schema if it is missing (default). A reader (the audit) that may not create
   * anything passes false: its connections then search the schema only if it exists.
   */
  createSchema?: boolean;
  /** Most connections open at once (pg's default: 10). */
  poolSize?: number;
  /** Waiting for a connection, at startup and whenever the pool opens one. */
  connectTimeoutMs?: number;
  /** How long an idle connection is kept. */
  idleTimeoutMs?: number;
  /** An idle connection was lost (the pool replaces it); absent: TypeORM's logger warns. */
  onPoolError?: (error: Error) => void;
  logging?: LoggerOptions;
}

/**
 * Opens a service's TypeORM DataSource: one pg pool, which the event store shares (`poolOf`).
 * Its schema is created first (under the migration lock, so two instances can start at once):
 * TypeORM binds to the schema it finds at `initialize`.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const schema = assertIdentifier('schema', options.schema);
  if (options.createSchema !== false)
    await ensureSchema(options.url, schema, options.connectTimeoutMs);
  const database = new DataSource({
    type: 'postgres',
    url: options.url,
    applicationName: options.applicationName,
    connectTimeoutMS: options.connectTimeoutMs,
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
    entities: [...options.entities] as MixedList<EntityClass>,
    migrations: [...(options.migrations ?? [])],
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'all',
    logging: options.logging ?? false,
    ...(options.onPoolError ? { poolErrorHandler: options.onPoolError } : {}),
    extra: {
      options: `-c search_path=${schema}`,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMillis: options.idleTimeoutMs } : {}),
    },
  });
  await database.initialize();
  return database;
}

/** The DataSource's pg pool: the event store (which stays on `pg`) works through it. */
export function poolOf(database: DataSource): pg.Pool {
  const pool = (database.driver as unknown as { master?: pg.Pool }).master;
  if (!pool) throw new Error('the DataSource is not initialized');
  return pool;
}

/** The schema a DataSource's connections search first: where its entities' tables are. */
export function schemaOf(database: DataSource): string | undefined {
  return (database.driver as unknown as { searchSchema?: string }).searchSchema;
}

/**
 * Runs the DataSource's pending TypeORM migrations in one transaction, under the advisory lock
 * today's runner (`runMigrations`) takes too: instances starting at once queue up, and the
 * later ones find the work recorded. Returns the names of the migrations it ran.
 */
export async function migrateDatabase(database: DataSource): Promise<string[]> {
  const runner = database.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    await runner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(database, runner);
    executor.transaction = 'all';
    const applied = await executor.executePendingMigrations();
    await runner.commitTransaction();
    return applied.map((m) => m.name);
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await runner.release();
  }
}

async function ensureSchema(url: string, schema: string, connectTimeoutMs?: number) {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query('COMMIT');
  } finally {
    await client.end().catch(() => undefined);
  }
}
