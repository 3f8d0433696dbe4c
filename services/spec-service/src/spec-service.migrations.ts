import type { Migration } from '@campaigns/events';

/**
 * spec-service's schema changes, oldest first. DESIGN.md: a service owns one schema,
 * named after it, and writes nothing else but appends to the event store. The schema exists
 * before they run (`openDatabase` creates it, to bind its connections to it).
 */
export const specServiceMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create spec_service schema',
    sql: 'CREATE SCHEMA IF NOT EXISTS spec_service',
  },
];
