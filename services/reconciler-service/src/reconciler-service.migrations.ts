import type { Migration } from '@campaigns/events';
import { PUBLICATION_LEDGER_SQL } from './rollout/publication-ledger.js';

/**
 * reconciler-service's schema changes, oldest first. DESIGN.md: a service owns one schema,
 * named after it, and writes nothing else but appends to the event store. The schema exists
 * before they run (`openDatabase` creates it); the first is kept for databases that predate that.
 */
export const reconcilerServiceMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create reconciler_service schema',
    sql: 'CREATE SCHEMA IF NOT EXISTS reconciler_service',
  },
  {
    version: 2,
    name: 'the publication ledger (rollout windows and content-creation limits)',
    sql: PUBLICATION_LEDGER_SQL('reconciler_service'),
  },
];
