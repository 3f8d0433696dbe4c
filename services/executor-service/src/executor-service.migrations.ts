import type { Migration } from '@campaigns/events';

/**
 * executor-service's schema changes, oldest first. DESIGN.md: a service owns one schema,
 * named after it, and writes nothing else but appends to the event store.
 */
export const executorServiceMigrations: readonly Migration[] = [
  // IF NOT EXISTS: the service's DataSource creates its schema before it migrates.
  {
    version: 1,
    name: 'create executor_service schema',
    sql: 'CREATE SCHEMA IF NOT EXISTS executor_service',
  },
  {
    version: 2,
    name: 'step cache',
    // key: sha256 of repository, base revision, path, steps, secret names and template data;
    // value: PatchComputed's blob references, files and steps.
    sql: `CREATE TABLE executor_service.step_cache (
            key text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{64}$'),
            value jsonb NOT NULL,
            stored_at timestamptz NOT NULL DEFAULT now()
          )`,
  },
];
