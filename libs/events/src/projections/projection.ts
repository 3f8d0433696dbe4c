import type { PoolClient } from 'pg';
import type { StoredEvent } from '../store/event.js';
import type { Migration } from '../store/migrations.js';

/** Where a projection writes: the transaction to write in and the schema its tables live in. */
export interface ProjectionContext {
  tx: PoolClient;
  /** Live schema, or a scratch schema during replay: always write `${schema}.table`. */
  schema: string;
}

/**
 * A read model built from events. It must be deterministic: the same events produce the same
 * rows (take times from `recorded_at`, never `now()`), so replay can compare it with the live one.
 */
export interface ProjectionDefinition {
  /** Lower-case name, unique within its schema. */
  name: string;
  /** Stream categories it follows (the `<category>` of `<category>-<id>` stream ids). */
  categories: readonly string[];
  /** Versioned DDL (versions from 1), parameterised by schema so replay can build a scratch copy. */
  migrations(schema: string): readonly Migration[];
  /** Applies events, already deduplicated and in stream order, inside the consumer's transaction. */
  handle(events: readonly StoredEvent[], ctx: ProjectionContext): Promise<void>;
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
  projection: ProjectionDefinition,
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
