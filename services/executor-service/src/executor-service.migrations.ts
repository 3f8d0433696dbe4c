import type { Migration } from '@campaigns/events';

/**
 * executor-service's schema changes, oldest first. DESIGN.md: a service owns one schema,
 * named after it, and writes nothing else but appends to the event store.
 */
export const executorServiceMigrations: readonly Migration[] = [
  { version: 1, name: 'create executor_service schema', sql: 'CREATE SCHEMA executor_service' },
];
