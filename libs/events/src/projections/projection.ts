import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import type { EntityClass } from '../database/database.js';
import type { StoredEvent } from '../store/event.js';
import type { Migration } from '../store/migrations.js';

/** Where a projection writes: the transaction to write in and the schema its tables live in. */
export interface ProjectionContext<Prepared = unknown> {
  /**
   * The transaction, for the read model: repositories and the QueryBuilder over the
   * projection's entities, whose tables resolve to `schema` (the connection searches it), and
   * `manager.query` for set-based statements the QueryBuilder cannot express.
   */
  manager: EntityManager;
  /** The same transaction's pg client, for the event store only (`append`, `readStream`). */
  tx: PoolClient;
  /** Live schema, or the scratch schema during replay; raw SQL writes `${schema}.table`. */
  schema: string;
  /** What `prepare` returned for these events; absent without `prepare` (and in replay). */
  prepared?: Prepared;
}

/**
 * A read model built from events. It must be deterministic: the same events produce the same
 * rows (take times from `recorded_at`, never `now()`), so replay can compare it with the live one.
 */
export interface ProjectionDefinition<Prepared = unknown> {
  /** Lower-case name, unique within its schema. */
  name: string;
  /** Stream categories it follows (the `<category>` of `<category>-<id>` stream ids). */
  categories: readonly string[];
  /**
   * The event types it acts on, when not all: the live consumer acknowledges the others
   * without a transaction. One that follows a delivered event in its stream still reaches
   * `handle` (read from the store to fill the gap), so `handle` must ignore the types it does
   * not want, and replay gives it everything.
   */
  types?: readonly string[];
  /**
   * Versioned DDL (versions from 1), parameterised by schema so replay can build a scratch copy;
   * the service runs it as TypeORM migrations (`projectionSqlMigrations`).
   */
  migrations(schema: string): readonly Migration[];
  /** The TypeORM entities of its tables (each names no schema): the DataSource must list them. */
  entities: readonly EntityClass[];
  /**
   * Optional slow step (network calls, large reads) run before the consumer opens its
   * transaction, so nothing is held while it runs. It sees every event `handle` may then get (some
   * may turn out to be duplicates by then); its result reaches `handle` as `ctx.prepared`. A
   * failed or retried batch is prepared again. What it reads from outside the log makes the
   * projection not replayable: replay calls `handle` only.
   */
  prepare?(events: readonly StoredEvent[]): Promise<Prepared>;
  /** Applies events, already deduplicated and in stream order, inside the consumer's transaction. */
  handle(events: readonly StoredEvent[], ctx: ProjectionContext<Prepared>): Promise<void>;
  /**
   * The tables replay compares, with the columns that identify a row and, when not every
   * column is deterministic (e.g. an application-order sequence), the columns to compare.
   */
  tables: readonly { name: string; key: readonly string[]; columns?: readonly string[] }[];
}

export function assertIdentifier(kind: string, value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value))
    throw new Error(`${kind} "${value}" must be a lower-case SQL identifier`);
  return value;
}

/** Bookkeeping every consumer keeps beside its projection: per-stream checkpoints and dead letters. */
export function consumerTablesSql(schema: string): string {
  assertIdentifier('schema', schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${schema};
CREATE TABLE IF NOT EXISTS ${schema}.projection_checkpoints (
  projection text NOT NULL,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  PRIMARY KEY (projection, stream_id)
);
CREATE TABLE IF NOT EXISTS ${schema}.dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  projection text NOT NULL,
  event_id uuid NOT NULL,
  stream_id text NOT NULL,
  stream_version bigint NOT NULL,
  type text NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  event jsonb NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (projection, event_id)
);`;
}

/** The projection's migrations preceded by the consumer bookkeeping (version 0). */
export function projectionMigrations(
  projection: Pick<ProjectionDefinition, 'name' | 'migrations'>,
  schema: string,
): Migration[] {
  assertIdentifier('projection', projection.name);
  const own = projection.migrations(schema);
  if (own.some((m) => m.version < 1))
    throw new Error(`projection ${projection.name}: migration versions start at 1`);
  return [
    { version: 0, name: 'consumer checkpoints and dead letters', sql: consumerTablesSql(schema) },
    ...own,
  ];
}
